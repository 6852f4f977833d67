-- ids.lua - wrk script: every request asks for one ID picked at random
-- from a file of public IDs (one a line), loaded once per wrk thread.
--
--   wrk ... -s bench/ids.lua URL -- IDS_FILE PREFIX [SUFFIX]
--   e.g. -- links.txt /click/        or   -- msgs.txt /open/ .png
--
-- The same script drives mtrack-tracker and the nginx baseline, so both
-- servers see the same requests and the client does the same work.

local ids, n = {}, 0
local prefix, suffix = "/click/", ""
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
end

function init(args)
   local file = args[1] or error("usage: -- IDS_FILE PREFIX [SUFFIX]")
   prefix = args[2] or prefix
   suffix = args[3] or suffix
   for line in io.lines(file) do
      n = n + 1
      ids[n] = line
   end
   if n == 0 then error("no ids in " .. file) end
   math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
   wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"
end

function request()
   return wrk.format("GET", prefix .. ids[math.random(n)] .. suffix)
end
