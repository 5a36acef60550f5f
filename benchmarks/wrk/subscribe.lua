-- The write benchmarks/stack.py measured before: a checkout (POST /api/subscriptions) by
-- one user, whose token is args[1]. Each request makes a new pending subscription; the
-- route takes no Idempotency-Key, so a distinct body is not needed for distinct writes.

local headers = {["Content-Type"] = "application/json"}
local body = '{"tariff_plan_id": 1, "payment_method": "card"}'

function init(args)
  headers["Authorization"] = "Bearer " .. (args[1] or "")
end

function request()
  return wrk.format("POST", "/api/subscriptions", headers, body)
end
