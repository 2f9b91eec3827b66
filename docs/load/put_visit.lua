-- wrk script: PUT /api/v1/visits/{id} with random ids (mostly creates, some
-- updates), for customers c0..c99 of crew "north". KEY is the API key.
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")

local seeded = false
request = function()
  if not seeded then
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
    seeded = true
  end
  local id = math.random(1, 10000000)
  local body = string.format(
    '{"customer_id":"c%d","crew_id":"north","service_date":"2026-05-%02d","route_position":%d,"price_cents":4500}',
    id % 100, 1 + id % 28, id % 15)
  return wrk.format(nil, "/api/v1/visits/v" .. id, nil, body)
end
