"""WeChat mini-program integration: the HTTP client of WeChat's API, login and binding, the access token."""
