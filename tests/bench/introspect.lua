-- introspect.lua - wrk script: POST /v1/sessions/introspect with one
-- session token (TOKEN, KEY and TENANT from the environment).
local body = '{"token":"' .. os.getenv("TOKEN") .. '"}'
wrk.method = "POST"
wrk.path = "/v1/sessions/introspect"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("KEY")
wrk.headers["X-Tenant-ID"] = os.getenv("TENANT")
