"use strict";
// The REST calls a chat screen needs, over the platform's request function, in the contract's error shape.
const { queryString } = require("./util.js");

// Every error of the API is {"error": {"code", "message", "details"}}; the SDK throws (or rejects with) it as this.
class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;  // HTTP status; 0 when the network failed, undefined for a WebSocket refusal
    this.code = code;      // stable snake_case code: "validation_error", "forbidden", "banned", "network_error", ...
    this.details = details || {};
  }
}

function errorOf(status, data) {
  const error = (data && data.error) || {};
  return new ApiError(status, error.code || (status === 0 ? "network_error" : "http_error"),
                      error.message || (status === 0 ? "network unavailable" : `HTTP ${status}`), error.details);
}

const reactionPath = (groupId, messageId, emoji) =>
  `/groups/${groupId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;

// platform.request({method, url, headers, json}) → Promise<{status, data}> (status 0: the network failed).
function createRest({ platform, apiBase, getToken, onUnauthorized }) {
  async function request(method, path, { json, query, auth = true } = {}) {
    const headers = { Accept: "application/json" };
    const token = auth ? getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const { status, data } = await platform.request({ method, url: apiBase + path + queryString(query), headers, json });
    if (status >= 200 && status < 300) return status === 204 ? null : data;
    const error = errorOf(status, data);
    if (status === 401 && token && onUnauthorized) onUnauthorized(error);
    throw error;
  }

  return {
    request,
    // POST /token: {grant_type: "password", username, password} or {grant_type: "wechat", code}.
    token: (body) => request("POST", "/token", { json: body, auth: false }),
    revokeToken: () => request("DELETE", "/token"),
    me: () => request("GET", "/me"),
    wsTicket: () => request("POST", "/ws/ticket", { json: {} }),
    conversations: (query) => request("GET", "/conversations", { query }),
    hideConversation: (groupId) => request("DELETE", `/conversations/${groupId}`),
    // PUT /conversations/{id} {muted?, pinned?} → {group_id, muted, pinned}.
    updateConversation: (groupId, flags) => request("PUT", `/conversations/${groupId}`, { json: flags }),
    bindWechat: (code) => request("POST", "/me/wechat", { json: { code } }),
    subscription: (templateId, accepted) => request("POST", "/me/subscriptions",
                                                    { json: { template_id: templateId, accepted } }),
    group: (groupId) => request("GET", `/groups/${groupId}`),
    messages: (groupId, query) => request("GET", `/groups/${groupId}/messages`, { query }),
    inquiry: (listingId) => request("POST", `/listings/${listingId}/inquiries`, { json: {} }),
    direct: (userId) => request("POST", `/users/${userId}/direct`, { json: {} }),
    read: (groupId, seq) => request("POST", `/groups/${groupId}/read`, { json: { seq } }),
    recall: (groupId, messageId) => request("POST", `/groups/${groupId}/messages/${messageId}/recall`, { json: {} }),
    editMessage: (groupId, messageId, text) => request("PATCH", `/groups/${groupId}/messages/${messageId}`,
                                                       { json: { body: { text } } }),
    react: (groupId, messageId, emoji) => request("PUT", reactionPath(groupId, messageId, emoji), { json: {} }),
    unreact: (groupId, messageId, emoji) => request("DELETE", reactionPath(groupId, messageId, emoji)),
    // platform.upload({url, headers, file}) → {status, data}: multipart field `file` → {url, content_type, size}.
    async upload(file) {
      const token = getToken();
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const { status, data } = await platform.upload({ url: `${apiBase}/uploads`, headers, file });
      if (status >= 200 && status < 300) return data;
      throw errorOf(status, data);
    },
  };
}

module.exports = { ApiError, createRest, errorOf };
