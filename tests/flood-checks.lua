-- flood-checks.lua - wrk script for t0997-floods: kill-switch checks, every answer
-- read.  MODE (environment) picks the calls:
--   distinct  a new target_id on every call (not killed: answers 200
--             with "is_killed":false)
--   killed    context checks of the killed agent TARGET with a new
--             run_id and action on every call (answers 200 with
--             "is_killed":true)
--   steady    the agent TARGET, the same call every time, answers 200
--             with "is_killed":false (another tenant's steady checks)
-- KEY is the API key; PACE_MS, when set, waits that long between an
-- answer and a connection's next call (wrk's delay(): wrk's latency is
-- measured from the send, without the wait).
--
-- At the end one line, parsed by the test:
--   flood requests=N seconds=S rate=R p50_ms=A p99_ms=B max_ms=C
--         status_errors=N socket_errors=N wrong=N
-- where wrong counts answers that were not 200 with the expected
-- is_killed (every thread's count).
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("id", #threads)
end

function init(args)
	counter = 0
	wrong = 0
	mode = os.getenv("MODE") or "distinct"
	key = os.getenv("KEY")
	target = os.getenv("TARGET") or "steady-bot"
	pace = tonumber(os.getenv("PACE_MS") or "")
	prefix = "fl-" .. id .. "-" .. os.time() .. "-" .. math.random(1000000)
	if mode == "killed" then
		expect = '"is_killed":true'
	else
		expect = '"is_killed":false'
	end
	-- a new connection for each steady check: a client arriving while
	-- the server is flooded must be let in, and no kept connection ends
	-- under it (a server may close an idle one at any time)
	steady = wrk.format("GET", "/api/v1/kill-switch/check?target_type=agent&target_id=" ..
		target, { ["X-API-Key"] = key, ["Connection"] = "close" })
end

function request()
	counter = counter + 1
	local path
	if mode == "distinct" then
		path = "/api/v1/kill-switch/check?target_type=agent&target_id=" ..
			prefix .. "-" .. counter
	elseif mode == "killed" then
		path = "/api/v1/kill-switch/check?agent_id=" .. target ..
			"&run_id=" .. prefix .. "-r" .. counter ..
			"&action=" .. prefix .. "-a" .. counter
	else
		return steady
	end
	return wrk.format("GET", path, { ["X-API-Key"] = key })
end

function response(status, headers, body)
	if status ~= 200 or not string.find(body, expect, 1, true) then
		wrong = wrong + 1
	end
end

-- defined only when pacing: a delay() of 0 would still cost wrk a timer
-- per call
if os.getenv("PACE_MS") then
	function delay()
		return pace
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	local all_wrong = 0
	for _, thread in ipairs(threads) do
		all_wrong = all_wrong + (thread:get("wrong") or 0)
	end
	local seconds = summary.duration / 1e6
	io.write(string.format("flood requests=%d seconds=%.2f rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f status_errors=%d socket_errors=%d wrong=%d\n",
		summary.requests, seconds, summary.requests / seconds,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout,
		all_wrong))
end
