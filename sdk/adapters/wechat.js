// @ts-check
"use strict";
// The WeChat mini-program adapter: wx.connectSocket (SocketTask), wx.request, wx.uploadFile, the storage API,
// onAppShow/onAppHide and onNetworkStatusChange.
//
//   const { createClient } = require("./sdk/adapters/wechat.js");
//   const chat = createClient({ baseUrl: "https://api.example.com" });
const { Client } = require("../core/client.js");

function parseJson(text) {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    return null;
  }
}

/**
 * @param {WechatMiniprogram.Wx} wx
 * @returns {import("../index").Platform}
 */
function wechatPlatform(wx) {
  return {
    name: "wechat",
    socketHeaders: true,  // wx.connectSocket sends `header`: the token never goes into a URL
    wsUrl: (base) => `${base.replace(/^http/, "ws")}/ws`,
    openSocket(url, headers, on) {
      const task = wx.connectSocket({ url, header: headers, fail: () => on.close(1006, "connect failed") });
      let closed = false;
      const closeOnce = (code, reason) => {
        if (closed) return;
        closed = true;
        on.close(code, reason);
      };
      task.onOpen(() => on.open());
      task.onMessage((res) => on.message(typeof res.data === "string" ? res.data : ""));  // the server sends text
      task.onClose((res) => closeOnce(res && res.code, res && res.reason));
      task.onError((err) => closeOnce(1006, (err && err.errMsg) || "socket error"));
      return {
        send: (text) => task.send({ data: text }),
        close: (code, reason) => task.close({ code, reason: reason || "" }),
      };
    },
    request({ method, url, headers, json }) {
      return new Promise((resolve) => {
        wx.request({
          url, method: /** @type {WechatMiniprogram.RequestOption["method"]} */ (method), header: headers, data: json,
          dataType: "json",
          success: (res) => resolve({ status: res.statusCode, data: parseJson(res.data) }),
          fail: (err) => resolve({ status: 0, data: null, error: err && err.errMsg }),
        });
      });
    },
    // file: a temp file path (wx.chooseMedia / wx.chooseImage / the recorder's tempFilePath).
    upload({ url, headers, file }) {
      return new Promise((resolve) => {
        wx.uploadFile({
          url, filePath: /** @type {string} */ (file), name: "file", header: headers,
          success: (res) => resolve({ status: res.statusCode, data: parseJson(res.data) }),  // data is a string
          fail: (err) => resolve({ status: 0, data: null, error: err && err.errMsg }),
        });
      });
    },
    storage: {
      get: (key) => {
        const value = wx.getStorageSync(key);
        return value === "" || value === undefined ? null : value;  // "" is wx's "no such key"
      },
      set: (key, value) => wx.setStorageSync(key, value),
      remove: (key) => wx.removeStorageSync(key),
    },
    onShow(fn) {
      wx.onAppShow(fn);
      return () => wx.offAppShow && wx.offAppShow(fn);
    },
    onHide(fn) {
      wx.onAppHide(fn);
      return () => wx.offAppHide && wx.offAppHide(fn);
    },
    onNetwork(fn) {
      const listener = (res) => fn(Boolean(res.isConnected));
      wx.onNetworkStatusChange(listener);
      return () => wx.offNetworkStatusChange && wx.offNetworkStatusChange(listener);
    },
  };
}

// options: {baseUrl, wx?} and any client option (DEFAULTS in core/client.js); hideGraceMs defaults to 5 s here.
function createClient(options = {}) {
  const api = options.wx || (typeof wx !== "undefined" ? wx : null);  // eslint-disable-line no-undef
  if (!api) throw new Error("paipai: no wx object (pass options.wx outside a mini-program)");
  return new Client(wechatPlatform(api), Object.assign({ hideGraceMs: 5000 }, options, { wx: undefined }));
}

// wx.login() for a code, then POST /token {grant_type: "wechat", code}.
function loginWithWechat(client, options = {}) {
  return wxCode(options).then((code) => client.login({ code }));
}

// wx.login() for a code, then POST /me/wechat: the logged-in account can log in with WeChat from now on.
function bindWechat(client, options = {}) {
  return wxCode(options).then((code) => client.bindWechat(code));
}

// wx.requestSubscribeMessage for one template (call it from a tap), then POST /me/subscriptions with the
// answer: each "accept" lets the server send one notification while this user is offline.
function subscribeWithWechat(client, templateId, options = {}) {
  const api = options.wx || (typeof wx !== "undefined" ? wx : null);  // eslint-disable-line no-undef
  return new Promise((resolve, reject) => {
    api.requestSubscribeMessage({
      tmplIds: [templateId],
      success: (res) => resolve(res[templateId] === "accept"),
      fail: (err) => reject(new Error(err && err.errMsg)),
    });
  }).then((accepted) => client.recordSubscription(templateId, accepted));
}

function wxCode(options) {
  const api = options.wx || (typeof wx !== "undefined" ? wx : null);  // eslint-disable-line no-undef
  return new Promise((resolve, reject) => {
    api.login({ success: (res) => resolve(res.code), fail: (err) => reject(new Error(err && err.errMsg)) });
  });
}

module.exports = { createClient, loginWithWechat, bindWechat, subscribeWithWechat, wechatPlatform };
