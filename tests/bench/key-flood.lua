-- key-flood.lua - wrk script: kill-switch checks with a fresh wrong secret
-- on every request, for the key id FLOOD_HEX (16 hex digits: a real key's
-- public id) or, when FLOOD_HEX is empty, for a fresh random key id each
-- time (the cheap refusal of an unknown id).  Every answer is a 401.
local hex = os.getenv("FLOOD_HEX") or ""
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local counter = 0

local function pick(chars, n)
	local t = {}
	for i = 1, n do
		local j = math.random(#chars)
		t[i] = chars:sub(j, j)
	end
	return table.concat(t)
end

function setup(thread)
	counter = counter + 1
	thread:set("seed", counter)
end

function init(args)
	math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
	local id = hex ~= "" and hex or pick("0123456789abcdef", 16)
	return wrk.format("GET", "/api/v1/kill-switch/check?target_type=agent&target_id=calm-bot",
		{ ["X-API-Key"] = "andon_" .. id .. "_" .. pick(alphabet, 43) })
end
