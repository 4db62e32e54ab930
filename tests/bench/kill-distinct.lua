-- kill-distinct.lua - wrk script: a new parameter on every call (distinct
-- per thread, run and call).
--   default        POST kill of a new run target
--   TARGET=id      GET check of the killed agent id with a new action
-- PACE_MS, when set, waits that long between a connection's answer and its
-- next call (wrk's delay()): C connections then offer about
-- C * 1000 / (PACE_MS + latency) calls a second.
--   KEY=andon_... wrk -t2 -c16 -s kill-distinct.lua http://127.0.0.1:PORT
local made = 0

function setup(thread)
	made = made + 1
	thread:set("id", made)
end

function init(args)
	counter = 0
	prefix = "kd-" .. id .. "-" .. os.time() .. "-" .. math.random(1000000)
	key = os.getenv("KEY")
	target = os.getenv("TARGET")
	pace = tonumber(os.getenv("PACE_MS") or "")
end

function request()
	counter = counter + 1
	if target then
		return wrk.format("GET", "/api/v1/kill-switch/check?target_type=agent&target_id=" ..
			target .. "&action=" .. prefix .. "-" .. counter, { ["X-API-Key"] = key })
	end
	local body = '{"target_type":"run","target_id":"' .. prefix .. "-" .. counter ..
		'","reason":"bench"}'
	return wrk.format("POST", "/api/v1/kill-switch/kill",
		{ ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end

if os.getenv("PACE_MS") then
	function delay()
		return pace
	end
end
