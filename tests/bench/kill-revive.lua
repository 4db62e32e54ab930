-- kill-revive.lua - wrk script: each connection alternates POST kill and
-- POST revive of its own run targets (run with one connection per thread,
-- so a revive always follows its kill on the same connection).
--   KEY=andon_... wrk -t4 -c4 -s kill-revive.lua http://127.0.0.1:PORT
local made = 0

function setup(thread)
	made = made + 1
	thread:set("id", made)
end

function init(args)
	counter = 0
	prefix = "bench-" .. id .. "-" .. os.time()
	key = os.getenv("KEY")
end

function request()
	counter = counter + 1
	local n = math.floor((counter + 1) / 2)
	local path = "/api/v1/kill-switch/kill"
	if counter % 2 == 0 then
		path = "/api/v1/kill-switch/revive"
	end
	local body = '{"target_type":"run","target_id":"' .. prefix .. "-" .. n .. '"}'
	return wrk.format("POST", path,
		{ ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end
