-- The session half of test/e2e-ardour.sh, run by ardour7-lua (Ardour's own
-- engine on its Dummy backend, no GUI, no JACK):
--   ardour7-lua test/e2e-ardour.lua SESSION_DIR NAME
-- Creates a session with Chronus on two MIDI tracks, loads a preset on
-- the first, automates its program port, changes the second's patch live
-- with a MIDI program change (not recorded: only its saved state can
-- bring it back), records notes through Ardour's virtual keyboard port,
-- and saves.  Prints "key value..." lines for the shell test to check;
-- "timeline" lines give the frame of every event.
local dir, name = arg[1], arg[2]
local rate = 48000

local function fail(why)
	print("error " .. why)
	quit()
	error(why)
end

if not create_session(dir, name, rate) then fail("cannot create the session") end

local info = ARDOUR.LuaAPI.new_plugin_info("urn:chronus:synth", ARDOUR.PluginType.LV2)
if info:isnil() then fail("Ardour does not find urn:chronus:synth in LV2_PATH") end
print("maker " .. info.creator)

-- Two instances, one per track ("Chronus 1", "Chronus 2").
local list = Session:new_midi_track(ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
	ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2), true, info, nil, nil, 2,
	"Chronus", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
local tracks = {}
for t in list:iter() do tracks[#tracks + 1] = t end
if #tracks ~= 2 then fail("created " .. #tracks .. " tracks, not 2") end
local A, B = tracks[1], tracks[2]
local procA, procB = A:nth_plugin(0), B:nth_plugin(0)
if procA:isnil() or procB:isnil() then fail("a track has no Chronus") end
local plugA = procA:to_insert():plugin(0)

-- Control inputs are numbered from 0 in port order: gain, program, ...
local PROGRAM = 1
local function program(proc)
	return ARDOUR.LuaAPI.get_processor_param(proc, PROGRAM, true)
end

-- What Ardour shows of the program port: its range and names.
local _, _, desc = ARDOUR.LuaAPI.plugin_automation(procA, PROGRAM)
print(string.format("program_range %d %d %s", desc.lower, desc.upper,
	tostring(desc.enumeration)))

-- MIDI from the Lua thread through the virtual keyboard's port.
local vkbd = Session:engine():get_port_by_name("x-virtual-keyboard")
if vkbd:isnil() then fail("no x-virtual-keyboard port") end
vkbd = vkbd:to_asyncmidiport()
local parser = ARDOUR.RawMidiParser()
local function send(...)
	for _, byte in ipairs({ ... }) do
		if parser:process_byte(byte) then
			vkbd:write(parser:midi_buffer(), parser:buffer_size(), 0)
		end
	end
end
-- Play into one track only; the port delivers asynchronously, so give it
-- time before and after switching.
local function play_into(track)
	sleep(0.2)
	vkbd:disconnect_all()
	if vkbd:connect(track:input():nth(0):name()) ~= 0 then
		fail("cannot connect the virtual keyboard to " .. track:name())
	end
	sleep(0.2)
end

-- A: the lead preset; the preset sets the program port too.
local preset = plugA:preset_by_uri("urn:chronus:preset:lead")
if not plugA:load_preset(preset) then fail("cannot load the lead preset") end
sleep(0.3)
print("a_program_after_preset " .. program(procA) .. " " .. preset.label)

-- B: program 4 (pad) by a MIDI program change, transport stopped: heard,
-- not recorded, and A must not hear it.  B's port still reads 0.
play_into(B)
send(0xC0, 4)
sleep(0.5)
print("b_program_port " .. program(procB))

-- A's program automation: 2 (lead) from the start, 1 (bass) from 2.5 s.
local switch_at = math.floor(2.5 * rate)
local alist, clist = ARDOUR.LuaAPI.plugin_automation(procA, PROGRAM)
clist:add(Temporal.timepos_t(0), 2, false, false)
clist:add(Temporal.timepos_t(switch_at), 1, false, false)
local ctrl = procA:to_automatable():automation_control(
	Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, 5), false)
if ctrl:isnil() then fail("no automation control for the program port") end
ctrl:set_automation_state(ARDOUR.AutoState.Play)
print("timeline switch " .. switch_at)

-- Record: A gets two notes, then B one.
play_into(A)
for _, t in ipairs(tracks) do
	t:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
end
Session:maybe_enable_record(false)
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
local function note(what, on, key, seconds)
	print("timeline " .. what .. " " .. Session:transport_sample())
	send(on, key, 100)
	sleep(seconds)
	send(on - 0x10, key, 0)
	print("timeline " .. what .. "_off " .. Session:transport_sample())
end
-- wait_until(frame): until the transport has passed `frame` (bounded).
local function wait_until(frame)
	for _ = 1, 300 do
		if Session:transport_sample() >= frame then return end
		sleep(0.02)
	end
	fail("the transport did not reach frame " .. frame)
end
wait_until(math.floor(0.5 * rate))
note("a1", 0x90, 57, 1.4)
wait_until(switch_at + math.floor(0.3 * rate)) -- the second note is after it
note("a2", 0x90, 57, 1.4)
play_into(B)
note("b1", 0x90, 69, 1.6)
sleep(0.3)
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
sleep(1.5) -- the butler writes the captures
for i, t in ipairs(tracks) do
	t:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)
	print("regions " .. i .. " " .. t:playlist():region_list():size())
end

-- Room for the releases and the reverb's tail in the export.
Session:locations():session_range_location():set_end(
	Temporal.timepos_t(12 * rate), false)
print("a_program_at_save " .. program(procA))
print("b_program_at_save " .. program(procB))
print("saved " .. Session:save_state("", false, false, false, false, false))
