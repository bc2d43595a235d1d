import { Client, ClientOptions, Platform } from "../index";
/** localStorage, sessionStorage or anything with their three methods. */
export interface StorageLike { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }
/** options.storage: a Storage (default localStorage); options.window: default globalThis. */
export declare function createClient(options?: ClientOptions & { storage?: StorageLike; window?: any }): Client;
export declare function browserPlatform(win: any, storage: StorageLike): Platform;
