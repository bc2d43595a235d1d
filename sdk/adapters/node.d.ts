import { Client, ClientOptions, Platform } from "../index";
type Storage = Platform["storage"];
/** options.baseUrl: "http://host:port"; options.storage: memoryStorage() (default) or fileStorage(path). */
export declare function createClient(options: ClientOptions & { storage?: Storage }): Client;
export declare function memoryStorage(map?: Map<string, string>): Storage;
export declare function fileStorage(file: string): Storage;
export declare function nodePlatform(storage: Storage): Platform;
