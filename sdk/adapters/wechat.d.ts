import { Client, ClientOptions, Platform } from "../index";
/** options.wx: the `wx` object (default: the mini-program's global `wx`). hideGraceMs defaults to 5000. */
export declare function createClient(options?: ClientOptions & { wx?: any }): Client;
/** wx.login() for a code, then POST /token {grant_type: "wechat", code}. */
export declare function loginWithWechat(client: Client, options?: { wx?: any }): ReturnType<Client["login"]>;
export declare function wechatPlatform(wx: any): Platform;
