// The REST helper both pages share: JSON in and out, the bearer token, and the contract's error shape.
// Every error response is {"error": {"code", "message", "details"}}; it is thrown as an ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;   // HTTP status (0: the network failed)
    this.code = code;       // stable snake_case code, e.g. "validation_error", "banned"
    this.details = details || {};
  }
}

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

// createApi({getToken, onUnauthorized}) → {get, post, put, patch, del, upload, login}
export function createApi({ base = "/api/v1", getToken = () => null, onUnauthorized = () => {} } = {}) {
  async function request(method, path, { json, form, query } = {}) {
    const headers = { Accept: "application/json" };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;  // FormData: the browser sets the multipart boundary
    }
    let response;
    try {
      response = await fetch(base + path + queryString(query), { method, headers, body });
    } catch (err) {
      throw new ApiError(0, "network_error", "网络不可用 (network unavailable)", {});
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      const apiError = new ApiError(response.status, error.code || "http_error",
                                    error.message || `HTTP ${response.status}`, error.details);
      if (response.status === 401 && token) onUnauthorized(apiError);
      throw apiError;
    }
    return data;
  }

  return {
    request,
    get: (path, query) => request("GET", path, { query }),
    post: (path, json) => request("POST", path, { json: json === undefined ? {} : json }),
    put: (path, json) => request("PUT", path, { json }),
    patch: (path, json) => request("PATCH", path, { json }),
    del: (path) => request("DELETE", path),
    // POST /uploads (multipart field `file`) → {url, content_type, size}
    upload(file) {
      const form = new FormData();
      form.append("file", file);
      return request("POST", "/uploads", { form });
    },
    // POST /token → {access_token, token_type, expires_in, user}
    login: (username, password) => request("POST", "/token", {
      json: { grant_type: "password", username, password } }),
  };
}
