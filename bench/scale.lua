-- wrk script of bench/scale.py: each connection walks the list of paths given after `--`; a first
-- argument `nocache` adds a Cookie, which makes nginx pass the request to the application (a request
-- with credentials is never served from the cache, deploy/nginx.conf.template). The run ends with one
-- JSON line (requests, errors by kind, latency percentiles in microseconds).
local paths = {}
local headers = {["Accept"] = "application/json"}
local counter = 0

function init(args)
  for i = 1, #args do
    if i == 1 and args[i] == "nocache" then
      headers["Cookie"] = "bench=nocache"
    elseif not (i == 1 and args[i] == "cache") then
      paths[#paths + 1] = args[i]
    end
  end
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
