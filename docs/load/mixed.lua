-- wrk script: the mixed profile of docs/load/run.sh (PROFILE=mixed).
--   40% GET /api/v1/invoices/inv-{1..200}
--   30% PUT /api/v1/visits/{new id} (customers c0..c999, crews north/south/east/west)
--   10% PUT /api/v1/customers/c{0..999} (an update: a new name and e-mail)
--   10% GET /api/v1/visits?from=..&to=.. (one week of the 120 seeded days),
--       three times in four of one crew; half of them a later page (cursor)
--   10% POST /api/v1/referrals (a new friend each time, of customer c{0..999})
-- KEY is the API key.
local key = os.getenv("KEY")
local crews = { "north", "south", "east", "west" }
local threads = 0
local n = 0
local tid = 0

setup = function(t)
  threads = threads + 1
  t:set("tid", threads)
end

init = function()
  math.randomseed(os.time() + tid * 7919 + tonumber(tostring({}):sub(8), 16))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
-- base64url without padding, as the API writes its cursors
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = b and (c and 4 or 3) or 2
    for j = 1, k do
      local idx = math.floor(v / 64 ^ (4 - j)) % 64
      out[#out + 1] = b64chars:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

local auth = { ["Authorization"] = "Bearer " .. key }
local json = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

local function date(day) -- day 0 is 2026-03-01; the seeded visits span 120 days
  local t = os.time({ year = 2026, month = 3, day = 1, hour = 12 }) + day * 86400
  return os.date("!%Y-%m-%d", t)
end

request = function()
  n = n + 1
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("GET", "/api/v1/invoices/inv-" .. math.random(200), auth)
  elseif r <= 70 then
    local d = math.random(0, 119)
    local body = string.format(
      '{"customer_id":"c%d","crew_id":"%s","service_date":"%s","route_position":%d,"price_cents":4500}',
      math.random(0, 999), crews[math.random(4)], date(d), math.random(0, 20))
    return wrk.format("PUT", "/api/v1/visits/mixed-" .. tid .. "-" .. n, json, body)
  elseif r <= 80 then
    local c = math.random(0, 999)
    local body = string.format(
      '{"name":"Customer %d (%d)","email":"c%d@example.com","address":"%d Elm St","lat":%.4f,"lon":%.4f,"consent_same_day":true}',
      c, n, c, c, 45.45 + (c % 40) * 0.003, -122.65 + math.floor(c / 40) * 0.003)
    return wrk.format("PUT", "/api/v1/customers/c" .. c, json, body)
  elseif r <= 90 then
    local d = math.random(0, 113)
    local path = "/api/v1/visits?limit=50&from=" .. date(d) .. "&to=" .. date(d + 6)
    if math.random(4) > 1 then
      path = path .. "&crew_id=" .. crews[math.random(4)]
    end
    if math.random(2) == 1 then
      path = path .. "&cursor=" .. b64(tostring(math.random(1, 30000)))
    end
    return wrk.format("GET", path, auth)
  else
    local body = string.format(
      '{"channel":"card","referrer_id":"c%d","referee":{"name":"Friend %d %d","phone":"971 %03d %04d"}}',
      math.random(0, 999), tid, n, 200 + tid * 10 + math.floor(n / 10000) % 10, n % 10000)
    return wrk.format("POST", "/api/v1/referrals", json, body)
  end
end
