-- wrk script for bench/web.py: counts every answer that is not 2xx (wrk itself counts only
-- >= 400) and prints one machine-readable line with the latency percentiles at the end.
-- The method and body of every request come from the environment (bench/wrk.py sets them):
-- GET without a body unless told otherwise; headers come from wrk's -H options.
local threads = {}

wrk.method = os.getenv("BENCH_WRK_METHOD") or "GET"
local body = os.getenv("BENCH_WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f non2xx=%.0f connect=%.0f read=%.0f write=%.0f " ..
    "status=%.0f timeout=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
