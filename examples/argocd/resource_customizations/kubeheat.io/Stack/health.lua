-- Argo CD health check for kubeheat Stacks (kubeheat.io/Stack).
-- Reads the standard conditions the operator maintains (Ready, Reconciling, Stalled) and
-- status.observedGeneration; written for Argo CD's Lua 5.1 (gopher-lua).
local hs = {}

local function condition(status, kind)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function ends_with(text, suffix)
  return text ~= nil and suffix ~= "" and string.sub(text, -string.len(suffix)) == suffix
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Reconciliation is suspended (spec.suspend)"
  return hs
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the kubeheat operator to report status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message or stalled.reason or "Stalled"
  return hs
end

if ends_with(status.stackStatus, "_FAILED") then
  hs.status = "Degraded"
  hs.message = status.stackStatus .. ": " .. (status.stackStatusReason or "")
  return hs
end

local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = reconciling.message or reconciling.reason or "Reconciling"
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = ready.message or ready.reason or "Not ready"
else
  hs.message = "Waiting for the Ready condition"
end
return hs
