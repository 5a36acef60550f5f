-- The seed's write baseline: registrations. Each request registers another account
-- (args[1] is the run's prefix, thread_id comes from figures.lua's setup), so none is
-- refused as an email already taken.

local prefix = "bench"
local counter = 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  prefix = args[1] or prefix
end

function request()
  counter = counter + 1
  local body = string.format('{"email": "%s-%d-%d@example.test", "password": "password-1"}',
                             prefix, thread_id, counter)
  return wrk.format("POST", "/api/auth/register", headers, body)
end
