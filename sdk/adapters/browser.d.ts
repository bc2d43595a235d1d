import { Client, ClientOptions, Platform } from "../index";
/** options.storage: a Storage (default localStorage); options.window: default globalThis. */
export declare function createClient(options?: ClientOptions & { storage?: Storage; window?: any }): Client;
export declare function browserPlatform(win: any, storage: Storage): Platform;
