"use strict";
// The PaiPai chat SDK's core: createClient(platform, options). Use an adapter instead of this directly:
// require("./adapters/wechat.js"), require("./adapters/browser.js") or require("./adapters/node.js").
const { Client, State } = require("./core/client.js");
const { ApiError } = require("./core/rest.js");
const { listen, HANDLER_BY_TYPE } = require("./core/compat.js");
const { newClientId, preview } = require("./core/util.js");

function createClient(platform, options) {
  return new Client(platform, options);
}

module.exports = { createClient, Client, State, ApiError, listen, HANDLER_BY_TYPE, newClientId, preview };
