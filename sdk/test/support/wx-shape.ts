// The test `wx` (wx.js) has the documented shape (miniprogram-api-typings) of every wx API the SDK calls:
// `npx tsc -p .` fails if one of them drifts. The adapter itself (adapters/wechat.js) is checked against the
// same typings (// @ts-check).
import { createWx } from "./wx";

type UsedBySdk = Pick<WechatMiniprogram.Wx,
  "connectSocket" | "request" | "uploadFile" | "getStorageSync" | "setStorageSync" | "removeStorageSync" |
  "onAppShow" | "offAppShow" | "onAppHide" | "offAppHide" | "onNetworkStatusChange" | "offNetworkStatusChange">;

export const wx: UsedBySdk = createWx();
