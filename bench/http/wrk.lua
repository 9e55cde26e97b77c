-- wrk script of bench/http/run.sh. Two things wrk 4 does not do on its own:
--
-- * Pacing (wrk2's constant rate is not in Debian): WRK_THREAD_RATE=R in the environment (requests/s
--   per wrk thread; run.sh sets it to the aimed rate / -t) makes
--   each thread send on a fixed schedule, one slot every 1000/RATE ms shared by its connections:
--   delay() returns the time until the thread's next slot (LuaJIT's FFI reads CLOCK_MONOTONIC;
--   wrk's timers have 1 ms resolution, the schedule keeps the average exact). When every
--   connection is busy the slots fall behind and are sent as soon as a connection is free
--   (a catch-up burst), so the achieved rate is printed and must be checked. wrk times a request
--   from its first byte written to the last byte of the response: the latency of a late slot does
--   not include the time it waited for a connection (no coordinated-omission correction as in
--   wrk2), which is why enough connections are opened that one is nearly always free.
-- * A machine-readable summary: done() prints one `WRK key=value ...` line (microseconds).
--
-- Without WRK_THREAD_RATE (or 0) no delay() is defined and the connections send back to back
-- (closed loop), exactly as plain wrk.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("WRK_THREAD_RATE") or "0") or 0

-- wrk looks delay() up once, after loading the script: it exists only when pacing, so that the
-- closed-loop runs pay for no timer per request.
if rate > 0 then
  local interval = 1000 / rate
  local next_at = nil
  function delay()
    local t = now_ms()
    if not next_at or next_at < t - 1000 then next_at = t end -- start, or more than 1 s behind
    next_at = next_at + interval
    local d = next_at - t
    if d <= 0 then return 0 end
    return math.floor(d + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d connect_errors=%d read_errors=%d write_errors=%d " ..
    "status_errors=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
