import { Client, ClientOptions, Platform } from "../index";
/** options.wx: the `wx` object (default: the mini-program's global `wx`). hideGraceMs defaults to 5000. */
export declare function createClient(options?: ClientOptions & { wx?: any }): Client;
/** wx.login() for a code, then POST /token {grant_type: "wechat", code}. */
export declare function loginWithWechat(client: Client, options?: { wx?: any }): ReturnType<Client["login"]>;
/** wx.login() for a code, then POST /me/wechat (bind WeChat to the logged-in account). */
export declare function bindWechat(client: Client, options?: { wx?: any }): ReturnType<Client["bindWechat"]>;
/** wx.requestSubscribeMessage({tmplIds: [templateId]}) (from a tap), then POST /me/subscriptions with the answer. */
export declare function subscribeWithWechat(client: Client, templateId: string, options?: { wx?: any }): ReturnType<Client["recordSubscription"]>;
export declare function wechatPlatform(wx: any): Platform;
