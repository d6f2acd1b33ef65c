-- bench_api's load for wrk: every request is a clean order (a known customer, one in-stock line of
-- quantity 1) with its own external_ref and, against `orderq api`, its own Idempotency-Key, so no
-- request is a replay. Arguments after `--`: CUSTOMER SKU RUN [BEARER_KEY]; RUN keeps the warm-up's
-- references apart from the measured run's. Any status other than 201 is counted, and done() prints
-- one line the bench parses: "@@WRK non201=N first=STATUS BODY".
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  customer, sku, run, key = args[1], args[2], args[3], args[4]
  sent, non201, first_bad = 0, 0, ""
end

function request()
  sent = sent + 1
  local ref = string.format("%s-%d-%d", run, id, sent)
  local body = string.format('{"customer": "%s", "lines": [{"sku": "%s", "qty": 1}], "external_ref": "B-%s"}',
                             customer, sku, ref)
  local headers = {["Content-Type"] = "application/json"}
  if key ~= nil and key ~= "" then
    headers["Authorization"] = "Bearer " .. key
    headers["Idempotency-Key"] = "bench-" .. ref
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 160) end
  end
end

function done(summary, latency, requests)
  local total, first = 0, ""
  for _, t in ipairs(threads) do
    total = total + t:get("non201")
    if first == "" then first = t:get("first_bad") end
  end
  io.write(string.format("@@WRK non201=%d first=%s\n", total, first:gsub("\n", " ")))
end
