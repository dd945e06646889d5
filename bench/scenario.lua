-- wrk script of bench/wrk_bench.py: one request per line of $REQUESTS_FILE, round-robin (each thread starting
-- elsewhere), so that R1's indicator changes with every request. A line is `GET<TAB>path[<TAB>header: value]`
-- or `POST<TAB>path<TAB>json body`. The run ends with one JSON line: requests, errors by kind (status: non-2xx/3xx),
-- latency percentiles in microseconds.
local items = {}
for line in io.lines(os.getenv("REQUESTS_FILE")) do
  if #line > 0 then
    local method, path, extra = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    items[#items + 1] = {method, path, extra}
  end
end

local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local i = nil
function request()
  if i == nil then i = (tid or 0) * 61 end
  i = i + 1
  local item = items[(i % #items) + 1]
  local headers = {["Accept"] = "application/json"}
  if item[1] == "POST" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", item[2], headers, item[3])
  end
  if #item[3] > 0 then
    local k, v = item[3]:match("^([^:]+):%s*(.*)$")
    headers[k] = v
  end
  return wrk.format("GET", item[2], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
