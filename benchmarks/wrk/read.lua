-- The seed's simple read: the catalogue. No request function, so wrk builds the
-- request once and spends no Lua per request: the client stays cheap.
wrk.method = "GET"
wrk.path = "/api/tariff_plans"
