// Minimal HTTP server for the demo service.
const http = require("http");

const config = {
  port: Number(process.env.PORT || 8080),
  apiKey: process.env.API_KEY,
  sessionSecret: process.env.SESSION_SECRET,
  tokenTtlSeconds: 3600,
};

function authorize(req) {
  const token = (req.headers.authorization || "").replace(/^Bearer /, "");
  const password = req.body && req.body.password;
  return token.length > 0 || Boolean(password);
}

http
  .createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ ok: authorize(req), ttl: config.tokenTtlSeconds }));
  })
  .listen(config.port);
