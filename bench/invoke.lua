-- wrk script: a synchronous Invoke with a small JSON event, as the SDKs send it.
wrk.method = "POST"
wrk.body = '{"bench":"echo","n":42}'
wrk.headers["Content-Type"] = "application/json"

-- wrk counts non-2xx/3xx answers itself; print the count so the scripts can report it.
function done(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
