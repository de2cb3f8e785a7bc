/* The protocol module: URIDs, the checked decoder and the one encoder.
   Nothing here trusts a size it has not compared with its container. */
#include "protocol.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* Vocabulary */

typedef struct {
  size_t      offset; /* of the LV2_URID in ChUris */
  const char* uri;
  const char* name; /* short, for error messages */
} ChTerm;

#define CH_TERM(field, uri, name)                                              \
  {                                                                            \
    offsetof(ChUris, field), uri, name                                         \
  }

static const ChTerm terms[] = {
  CH_TERM(atom_Bool, LV2_ATOM__Bool, "atom:Bool"),
  CH_TERM(atom_Double, LV2_ATOM__Double, "atom:Double"),
  CH_TERM(atom_Float, LV2_ATOM__Float, "atom:Float"),
  CH_TERM(atom_Int, LV2_ATOM__Int, "atom:Int"),
  CH_TERM(atom_Long, LV2_ATOM__Long, "atom:Long"),
  CH_TERM(atom_Object, LV2_ATOM__Object, "atom:Object"),
  CH_TERM(atom_Path, LV2_ATOM__Path, "atom:Path"),
  CH_TERM(atom_String, LV2_ATOM__String, "atom:String"),
  CH_TERM(atom_URID, LV2_ATOM__URID, "atom:URID"),
  CH_TERM(atom_Sequence, LV2_ATOM__Sequence, "atom:Sequence"),
  CH_TERM(midi_Event, LV2_MIDI__MidiEvent, "midi:MidiEvent"),
  CH_TERM(patch_Get, LV2_PATCH__Get, "patch:Get"),
  CH_TERM(patch_Set, LV2_PATCH__Set, "patch:Set"),
  CH_TERM(patch_property, LV2_PATCH__property, "patch:property"),
  CH_TERM(patch_value, LV2_PATCH__value, "patch:value"),
  CH_TERM(patch_sequenceNumber,
          LV2_PATCH__sequenceNumber,
          "patch:sequenceNumber"),
  CH_TERM(time_Position, LV2_TIME__Position, "time:Position"),
  CH_TERM(time_bar, LV2_TIME__bar, "time:bar"),
  CH_TERM(time_barBeat, LV2_TIME__barBeat, "time:barBeat"),
  CH_TERM(time_beatsPerBar, LV2_TIME__beatsPerBar, "time:beatsPerBar"),
  CH_TERM(time_beatsPerMinute, LV2_TIME__beatsPerMinute, "time:beatsPerMinute"),
  CH_TERM(time_speed, LV2_TIME__speed, "time:speed"),
  CH_TERM(ch_Create, CH_URI "Create", "ch:Create"),
  CH_TERM(ch_Delete, CH_URI "Delete", "ch:Delete"),
  CH_TERM(ch_Connect, CH_URI "Connect", "ch:Connect"),
  CH_TERM(ch_Disconnect, CH_URI "Disconnect", "ch:Disconnect"),
  CH_TERM(ch_Set, CH_URI "Set", "ch:Set"),
  CH_TERM(ch_Gate, CH_URI "Gate", "ch:Gate"),
  CH_TERM(ch_Commit, CH_URI "Commit", "ch:Commit"),
  CH_TERM(ch_Abort, CH_URI "Abort", "ch:Abort"),
  CH_TERM(ch_Load, CH_URI "Load", "ch:Load"),
  CH_TERM(ch_Undo, CH_URI "Undo", "ch:Undo"),
  CH_TERM(ch_Redo, CH_URI "Redo", "ch:Redo"),
  CH_TERM(ch_Ack, CH_URI "Ack", "ch:Ack"),
  CH_TERM(ch_Committed, CH_URI "Committed", "ch:Committed"),
  CH_TERM(ch_Error, CH_URI "Error", "ch:Error"),
  CH_TERM(ch_Patch, CH_URI "Patch", "ch:Patch"),
  CH_TERM(ch_Level, CH_URI "Level", "ch:Level"),
  CH_TERM(ch_Move, CH_URI "Move", "ch:Move"),
  CH_TERM(ch_Probe, CH_URI "Probe", "ch:Probe"),
  CH_TERM(ch_Rename, CH_URI "Rename", "ch:Rename"),
  CH_TERM(ch_Polyphony, CH_URI "Polyphony", "ch:Polyphony"),
  CH_TERM(ch_Scope, CH_URI "Scope", "ch:Scope"),
  CH_TERM(ch_Activity, CH_URI "Activity", "ch:Activity"),
  CH_TERM(ch_seq, CH_URI "seq", "ch:seq"),
  CH_TERM(ch_module, CH_URI "module", "ch:module"),
  CH_TERM(ch_kind, CH_URI "kind", "ch:kind"),
  CH_TERM(ch_from, CH_URI "from", "ch:from"),
  CH_TERM(ch_to, CH_URI "to", "ch:to"),
  CH_TERM(ch_param, CH_URI "param", "ch:param"),
  CH_TERM(ch_value, CH_URI "value", "ch:value"),
  CH_TERM(ch_text, CH_URI "text", "ch:text"),
  CH_TERM(ch_file, CH_URI "file", "ch:file"),
  CH_TERM(ch_message, CH_URI "message", "ch:message"),
  CH_TERM(ch_generation, CH_URI "generation", "ch:generation"),
  CH_TERM(ch_buildTime, CH_URI "buildTime", "ch:buildTime"),
  CH_TERM(ch_offset, CH_URI "offset", "ch:offset"),
  CH_TERM(ch_total, CH_URI "total", "ch:total"),
  CH_TERM(ch_fade, CH_URI "fade", "ch:fade"),
  CH_TERM(ch_quantize, CH_URI "quantize", "ch:quantize"),
  CH_TERM(ch_patch, CH_URI "patch", "ch:patch"),
  CH_TERM(ch_patchFile, CH_URI "patchFile", "ch:patchFile"),
  CH_TERM(ch_program, CH_URI "program", "ch:program"),
  CH_TERM(ch_level, CH_URI "level", "ch:level"),
  CH_TERM(ch_x, CH_URI "x", "ch:x"),
  CH_TERM(ch_y, CH_URI "y", "ch:y"),
  CH_TERM(ch_fadeTime, CH_URI "fadeTime", "ch:fadeTime"),
  CH_TERM(ch_port, CH_URI "port", "ch:port"),
  CH_TERM(ch_points, CH_URI "points", "ch:points"),
  CH_TERM(ch_step, CH_URI "step", "ch:step"),
  CH_TERM(ch_activity, CH_URI "activity", "ch:activity"),
  CH_TERM(ch_cpu, CH_URI "cpu", "ch:cpu"),
  CH_TERM(atom_Vector, LV2_ATOM__Vector, "atom:Vector"),
};

#define N_TERMS (sizeof(terms) / sizeof(terms[0]))

static LV2_URID*
term_field(ChUris* const uris, const size_t i)
{
  return (LV2_URID*)((char*)uris + terms[i].offset);
}

void
ch_uris_map(ChUris* const uris, LV2_URID_Map* const map)
{
  memset(uris, 0, sizeof(*uris));
  for (size_t i = 0; i < N_TERMS; ++i) {
    *term_field(uris, i) = map->map(map->handle, terms[i].uri);
  }
}

CH_REALTIME const char*
ch_uri_name(const ChUris* const uris, const LV2_URID urid)
{
  for (size_t i = 0; urid && i < N_TERMS; ++i) {
    LV2_URID value;
    memcpy(&value, (const char*)uris + terms[i].offset, sizeof(value));
    if (value == urid) {
      return terms[i].name;
    }
  }
  return NULL;
}

ChMsg
ch_msg_init(const ChMsgKind kind)
{
  ChMsg msg;
  memset(&msg, 0, sizeof(msg));
  msg.kind = kind;
  msg.fade = -1.0f;
  return msg;
}

ChMsg
ch_msg_set(const char* const module, const char* const param, const float value)
{
  ChMsg msg     = ch_msg_init(CH_MSG_SET);
  msg.module    = module;
  msg.param     = param;
  msg.value     = value;
  msg.has_value = true;
  return msg;
}

/* Reading raw memory: atoms from a host may sit at any alignment. */

CH_REALTIME static uint32_t
rd32(const uint8_t* const p)
{
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

CH_REALTIME static uint64_t
pad8(const uint64_t size)
{
  return (size + 7u) & ~(uint64_t)7u;
}

/* The atom at `p` with `capacity` bytes there: its type and size, if the
   header fits and the body fits inside the capacity. */
CH_REALTIME static bool
atom_fits(const uint8_t* const p,
          const uint64_t       capacity,
          uint32_t* const      type,
          uint32_t* const      size)
{
  if (!p || capacity < sizeof(LV2_Atom)) {
    return false;
  }
  *size = rd32(p);
  *type = rd32(p + 4);
  return (uint64_t)*size <= capacity - sizeof(LV2_Atom);
}

CH_REALTIME bool
ch_atom_number(const ChUris* const   uris,
               const LV2_Atom* const atom,
               const uint32_t        capacity,
               float* const          value)
{
  const uint8_t* const p    = (const uint8_t*)atom;
  uint32_t             type = 0;
  uint32_t             size = 0;
  if (!atom_fits(p, capacity, &type, &size)) {
    return false;
  }
  const uint8_t* const body = p + sizeof(LV2_Atom);
  if (type == uris->atom_Float && size >= sizeof(float)) {
    memcpy(value, body, sizeof(float));
  } else if (type == uris->atom_Double && size >= sizeof(double)) {
    double d;
    memcpy(&d, body, sizeof(d));
    *value = (float)d;
  } else if (type == uris->atom_Int && size >= sizeof(int32_t)) {
    int32_t i;
    memcpy(&i, body, sizeof(i));
    *value = (float)i;
  } else if (type == uris->atom_Long && size >= sizeof(int64_t)) {
    int64_t l;
    memcpy(&l, body, sizeof(l));
    *value = (float)l;
  } else if (type == uris->atom_Bool && size >= sizeof(int32_t)) {
    *value = rd32(body) ? 1.0f : 0.0f;
  } else {
    return false;
  }
  return true;
}

CH_REALTIME const char*
ch_atom_string(const ChUris* const   uris,
               const LV2_Atom* const atom,
               const uint32_t        capacity,
               uint32_t* const       len)
{
  const uint8_t* const p    = (const uint8_t*)atom;
  uint32_t             type = 0;
  uint32_t             size = 0;
  if (!atom_fits(p, capacity, &type, &size) || !size ||
      (type != uris->atom_String && type != uris->atom_Path)) {
    return NULL;
  }
  const char* const text = (const char*)p + sizeof(LV2_Atom);
  const char* const nul  = (const char*)memchr(text, '\0', size);
  if (!nul) {
    return NULL;
  }
  if (len) {
    *len = (uint32_t)(nul - text);
  }
  return text;
}

/* Sequences */

CH_REALTIME bool
ch_seq_begin(const ChUris* const            uris,
             const LV2_Atom_Sequence* const seq,
             const uint64_t                 capacity,
             ChSeqIter* const               it)
{
  it->at = it->end = NULL;
  it->fault        = NULL;
  uint32_t type    = 0;
  uint32_t size    = 0;
  if (!seq || capacity < sizeof(LV2_Atom)) {
    return false;
  }
  if (!atom_fits((const uint8_t*)seq, capacity, &type, &size)) {
    it->fault =
      "malformed atom:Sequence: its size runs past the end of its buffer";
    return false;
  }
  if (size == 0) {
    return false; /* some hosts give an empty atom when nothing is sent */
  }
  if (type != uris->atom_Sequence) {
    it->fault = "malformed atom:Sequence: it is not an atom:Sequence";
    return false;
  }
  if (size < sizeof(LV2_Atom_Sequence_Body)) {
    it->fault =
      "malformed atom:Sequence: it is too small for a sequence header";
    return false;
  }
  const uint8_t* const body = (const uint8_t*)seq + sizeof(LV2_Atom);
  it->at                    = body + sizeof(LV2_Atom_Sequence_Body);
  it->end                   = body + size;
  return true;
}

CH_REALTIME const LV2_Atom_Event*
ch_seq_next(ChSeqIter* const it, uint32_t* const body_capacity)
{
  if (!it->at || it->at >= it->end) {
    return NULL;
  }
  const uint64_t left = (uint64_t)(it->end - it->at);
  if (left < sizeof(LV2_Atom_Event)) {
    /* Up to 7 bytes may be the padding of the last event. */
    it->fault = left < 8u
                  ? NULL
                  : "malformed atom:Sequence: an event header is cut short";
    it->at    = it->end;
    return NULL;
  }
  const uint8_t* const ev   = it->at;
  const uint64_t       room = left - sizeof(LV2_Atom_Event);
  const uint32_t       size = rd32(ev + 8);
  if ((uint64_t)size > room) {
    it->fault = "malformed atom:Sequence: an event's size runs past the end of "
                "its sequence (the events after it were dropped)";
    it->at    = it->end;
    return NULL;
  }
  const uint64_t step = pad8(sizeof(LV2_Atom_Event) + (uint64_t)size);
  it->at              = step >= left ? it->end : ev + step;
  *body_capacity      = (uint32_t)(left - 8u);
  return (const LV2_Atom_Event*)ev;
}

/* Objects */

/* The properties a message may carry, each the first of its key. */
enum {
  P_SEQ,
  P_SEQUENCE_NUMBER,
  P_MODULE,
  P_KIND,
  P_FROM,
  P_TO,
  P_PARAM,
  P_VALUE,
  P_TEXT,
  P_FILE,
  P_MESSAGE,
  P_GENERATION,
  P_BUILD_TIME,
  P_OFFSET,
  P_TOTAL,
  P_FADE,
  P_QUANTIZE,
  P_PROPERTY,
  P_PATCH_VALUE,
  P_X,
  P_Y,
  P_PORT,
  P_POINTS,
  P_CPU,
  P_STEP,
  P_BAR,
  P_BAR_BEAT,
  P_BEATS_PER_BAR,
  P_BPM,
  P_SPEED,
  P_COUNT
};

typedef struct {
  const LV2_Atom* atom[P_COUNT]; /* NULL when absent; sizes checked */
  LV2_URID        key[P_COUNT];
} ChProps;

CH_REALTIME static int
prop_index(const ChUris* const uris, const LV2_URID key)
{
  const LV2_URID keys[P_COUNT] = {
    uris->ch_seq,
    uris->patch_sequenceNumber,
    uris->ch_module,
    uris->ch_kind,
    uris->ch_from,
    uris->ch_to,
    uris->ch_param,
    uris->ch_value,
    uris->ch_text,
    uris->ch_file,
    uris->ch_message,
    uris->ch_generation,
    uris->ch_buildTime,
    uris->ch_offset,
    uris->ch_total,
    uris->ch_fade,
    uris->ch_quantize,
    uris->patch_property,
    uris->patch_value,
    uris->ch_x,
    uris->ch_y,
    uris->ch_port,
    uris->ch_points,
    uris->ch_cpu,
    uris->ch_step,
    uris->time_bar,
    uris->time_barBeat,
    uris->time_beatsPerBar,
    uris->time_beatsPerMinute,
    uris->time_speed,
  };
  for (int i = 0; i < P_COUNT; ++i) {
    if (keys[i] == key) {
      return i;
    }
  }
  return -1;
}

CH_REALTIME static ChProtoStatus
fail(ChMsgFault* const fault,
     const LV2_URID    key,
     const uint64_t    size,
     const char* const reason)
{
  fault->key    = key;
  fault->size   = size;
  fault->reason = reason;
  return CH_PROTO_MALFORMED;
}

/* Walk the properties between `p` and `end`, every one checked. */
CH_REALTIME static ChProtoStatus
read_props(const ChUris* const  uris,
           const uint8_t*       p,
           const uint8_t* const end,
           ChProps* const       props,
           ChMsgFault* const    fault)
{
  const uint32_t head = (uint32_t)sizeof(LV2_Atom_Property_Body);
  while (p < end) {
    const uint64_t left = (uint64_t)(end - p);
    if (left < head) {
      /* Up to 7 bytes may be the padding of the last property. */
      return left < 8u ? CH_PROTO_OK
                       : fail(fault, 0, left,
                              "ends in a property cut short (%s bytes)");
    }
    const LV2_URID key  = rd32(p);
    const uint32_t size = rd32(p + 8);
    if ((uint64_t)size > left - head) {
      return fail(fault, key, size, "has size %s past the end of its object");
    }
    const int i = prop_index(uris, key);
    if (i >= 0 && !props->atom[i]) {
      props->atom[i] = (const LV2_Atom*)(p + 8);
      props->key[i]  = key;
    }
    const uint64_t step = pad8(head + (uint64_t)size);
    p                   = step >= left ? end : p + step;
  }
  return CH_PROTO_OK;
}

/* Bytes of the property value atom `i` (header included): checked. */
CH_REALTIME static uint32_t
prop_capacity(const ChProps* const props, const int i)
{
  return (uint32_t)sizeof(LV2_Atom) + props->atom[i]->size;
}

/* A string property: NULL if absent or not a string; malformed if a
   string without its terminator. */
CH_REALTIME static ChProtoStatus
get_string(const ChUris* const  uris,
           const ChProps* const props,
           const int            i,
           const char** const   text,
           uint32_t* const      len,
           ChMsgFault* const    fault)
{
  const LV2_Atom* const atom = props->atom[i];
  *text                      = NULL;
  if (!atom ||
      (atom->type != uris->atom_String && atom->type != uris->atom_Path)) {
    return CH_PROTO_OK;
  }
  *text = ch_atom_string(uris, atom, prop_capacity(props, i), len);
  return *text ? CH_PROTO_OK
               : fail(fault, props->key[i], atom->size,
                      "is a string of %s bytes with no terminator in it");
}

/* A number property: `*has` false if absent or not a number; malformed if
   too small for its type or not finite. */
CH_REALTIME static ChProtoStatus
get_number(const ChUris* const  uris,
           const ChProps* const props,
           const int            i,
           bool* const          has,
           float* const         value,
           ChMsgFault* const    fault)
{
  const LV2_Atom* const atom = props->atom[i];
  *has                       = false;
  if (!atom) {
    return CH_PROTO_OK;
  }
  const LV2_URID t       = atom->type;
  const bool     numeric = t == uris->atom_Float || t == uris->atom_Double ||
                       t == uris->atom_Int || t == uris->atom_Long ||
                       t == uris->atom_Bool;
  if (!numeric) {
    return CH_PROTO_OK;
  }
  if (!ch_atom_number(uris, atom, prop_capacity(props, i), value)) {
    return fail(fault, props->key[i], atom->size,
                "has size %s, too small for its number type");
  }
  if (!isfinite(*value)) {
    return fail(fault, props->key[i], 0, "is not a finite number");
  }
  *has = true;
  return CH_PROTO_OK;
}

/* An integer property (Int or Long): `*has` false if absent or another
   type; malformed if too small. */
CH_REALTIME static ChProtoStatus
get_integer(const ChUris* const  uris,
            const ChProps* const props,
            const int            i,
            bool* const          has,
            int64_t* const       value,
            ChMsgFault* const    fault)
{
  const LV2_Atom* const atom = props->atom[i];
  *has                       = false;
  if (!atom ||
      (atom->type != uris->atom_Int && atom->type != uris->atom_Long)) {
    return CH_PROTO_OK;
  }
  const uint8_t* const body = (const uint8_t*)(atom + 1);
  if (atom->type == uris->atom_Long && atom->size >= sizeof(int64_t)) {
    memcpy(value, body, sizeof(*value));
  } else if (atom->type == uris->atom_Int && atom->size >= sizeof(int32_t)) {
    int32_t v;
    memcpy(&v, body, sizeof(v));
    *value = v;
  } else {
    return fail(fault, props->key[i], atom->size,
                "has size %s, too small for its integer type");
  }
  *has = true;
  return CH_PROTO_OK;
}

/* A URID property (patch:property): 0 if absent or another type. */
CH_REALTIME static ChProtoStatus
get_urid(const ChUris* const  uris,
         const ChProps* const props,
         const int            i,
         LV2_URID* const      value,
         ChMsgFault* const    fault)
{
  const LV2_Atom* const atom = props->atom[i];
  *value                     = 0;
  if (!atom || atom->type != uris->atom_URID) {
    return CH_PROTO_OK;
  }
  if (atom->size < sizeof(LV2_URID)) {
    return fail(fault, props->key[i], atom->size,
                "has size %s, too small for an atom:URID");
  }
  *value = rd32((const uint8_t*)(atom + 1));
  return CH_PROTO_OK;
}

CH_REALTIME static ChMsgKind
kind_of(const ChUris* const uris, const LV2_URID otype)
{
  const struct {
    LV2_URID  otype;
    ChMsgKind kind;
  } kinds[] = {
    { uris->ch_Create, CH_MSG_CREATE },
    { uris->ch_Delete, CH_MSG_DELETE },
    { uris->ch_Connect, CH_MSG_CONNECT },
    { uris->ch_Disconnect, CH_MSG_DISCONNECT },
    { uris->ch_Set, CH_MSG_SET },
    { uris->ch_Gate, CH_MSG_GATE },
    { uris->ch_Commit, CH_MSG_COMMIT },
    { uris->ch_Abort, CH_MSG_ABORT },
    { uris->ch_Load, CH_MSG_LOAD },
    { uris->ch_Undo, CH_MSG_UNDO },
    { uris->ch_Redo, CH_MSG_REDO },
    { uris->patch_Get, CH_MSG_GET },
    { uris->patch_Set, CH_MSG_PUT },
    { uris->ch_Ack, CH_MSG_ACK },
    { uris->ch_Committed, CH_MSG_COMMITTED },
    { uris->ch_Error, CH_MSG_ERROR },
    { uris->ch_Patch, CH_MSG_PATCH },
    { uris->ch_Level, CH_MSG_LEVEL },
    { uris->ch_Move, CH_MSG_MOVE },
    { uris->ch_Probe, CH_MSG_PROBE },
    { uris->ch_Rename, CH_MSG_RENAME },
    { uris->ch_Polyphony, CH_MSG_POLYPHONY },
    { uris->ch_Scope, CH_MSG_SCOPE },
    { uris->ch_Activity, CH_MSG_ACTIVITY },
    { uris->time_Position, CH_MSG_POSITION },
  };
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); ++i) {
    if (kinds[i].otype == otype) {
      return kinds[i].kind;
    }
  }
  return CH_MSG_UNKNOWN;
}

/* ch:seq (or patch:sequenceNumber) as an atom:Int. */
CH_REALTIME static ChProtoStatus
read_seq(const ChUris* const  uris,
         const ChProps* const props,
         ChMsg* const         msg,
         ChMsgFault* const    fault)
{
  const int i = props->atom[P_SEQ] && props->atom[P_SEQ]->type == uris->atom_Int
                  ? P_SEQ
                  : P_SEQUENCE_NUMBER;
  if (!props->atom[i] || props->atom[i]->type != uris->atom_Int) {
    return CH_PROTO_OK;
  }
  int64_t             seq = 0;
  bool                has = false;
  const ChProtoStatus st  = get_integer(uris, props, i, &has, &seq, fault);
  msg->has_seq            = has;
  msg->seq                = (int32_t)seq;
  return st;
}

CH_REALTIME static ChProtoStatus
read_strings(const ChUris* const  uris,
             const ChProps* const props,
             ChMsg* const         msg,
             ChMsgFault* const    fault)
{
  uint32_t text_len = 0;
  if (get_string(uris, props, P_MODULE, &msg->module, NULL, fault) ||
      get_string(uris, props, P_KIND, &msg->module_kind, NULL, fault) ||
      get_string(uris, props, P_FROM, &msg->from, NULL, fault) ||
      get_string(uris, props, P_TO, &msg->to, NULL, fault) ||
      get_string(uris, props, P_PARAM, &msg->param, NULL, fault) ||
      get_string(uris, props, P_TEXT, &msg->text, &text_len, fault) ||
      get_string(uris, props, P_FILE, &msg->file, NULL, fault) ||
      get_string(uris, props, P_MESSAGE, &msg->message, NULL, fault) ||
      get_string(uris, props, P_PORT, &msg->port, NULL, fault)) {
    return CH_PROTO_MALFORMED;
  }
  msg->text_len = msg->text ? text_len : 0u;
  return CH_PROTO_OK;
}

/* ch:points or ch:cpu: an atom:Vector of atom:Float, at most
   CH_SCOPE_POINTS. */
CH_REALTIME static ChProtoStatus
get_floats(const ChUris* const  uris,
           const ChProps* const props,
           const int            prop,
           const float** const  floats,
           uint32_t* const      n_floats,
           ChMsgFault* const    fault)
{
  const LV2_Atom* const atom = props->atom[prop];
  if (!atom || atom->type != uris->atom_Vector) {
    return CH_PROTO_OK;
  }
  const LV2_Atom_Vector_Body* const body =
    (const LV2_Atom_Vector_Body*)(atom + 1);
  if (atom->size < sizeof(*body) || body->child_type != uris->atom_Float ||
      body->child_size != sizeof(float)) {
    return fail(fault, props->key[prop], atom->size,
                "is not a vector of atom:Float (size %s)");
  }
  const uint32_t n = (atom->size - (uint32_t)sizeof(*body)) / sizeof(float);
  if (n > CH_SCOPE_POINTS) {
    return fail(fault, props->key[prop], n, "has %s points, too many");
  }
  *floats   = (const float*)(body + 1);
  *n_floats = n;
  return CH_PROTO_OK;
}

/* ch:points, and ch:cpu beside them (one share per point). */
CH_REALTIME static ChProtoStatus
get_points(const ChUris* const  uris,
           const ChProps* const props,
           ChMsg* const         msg,
           ChMsgFault* const    fault)
{
  uint32_t n_cpu = 0;
  if (get_floats(uris, props, P_POINTS, &msg->points, &msg->n_points, fault) ||
      get_floats(uris, props, P_CPU, &msg->cpu, &n_cpu, fault)) {
    return CH_PROTO_MALFORMED;
  }
  if (msg->cpu && n_cpu != msg->n_points) {
    return fail(fault, props->key[P_CPU], n_cpu,
                "has %s shares, not one per point");
  }
  return CH_PROTO_OK;
}

CH_REALTIME static ChProtoStatus
read_numbers(const ChUris* const  uris,
             const ChProps* const props,
             ChMsg* const         msg,
             ChMsgFault* const    fault)
{
  bool    has_fade = false;
  bool    has_time = false;
  bool    has_gen  = false;
  bool    has_off  = false;
  bool    has_tot  = false;
  bool    has_q    = false;
  bool    has_x    = false;
  bool    has_y    = false;
  bool    has_step = false;
  int64_t off      = 0;
  int64_t tot      = 0;
  int64_t q        = 0;
  if (get_number(uris, props, P_VALUE, &msg->has_value, &msg->value, fault) ||
      get_number(uris, props, P_FADE, &has_fade, &msg->fade, fault) ||
      get_number(uris, props, P_BUILD_TIME, &has_time, &msg->build_ms, fault) ||
      get_integer(uris, props, P_GENERATION, &has_gen, &msg->generation,
                  fault) ||
      get_integer(uris, props, P_OFFSET, &has_off, &off, fault) ||
      get_integer(uris, props, P_TOTAL, &has_tot, &tot, fault) ||
      get_integer(uris, props, P_QUANTIZE, &has_q, &q, fault) ||
      get_number(uris, props, P_X, &has_x, &msg->x, fault) ||
      get_number(uris, props, P_Y, &has_y, &msg->y, fault) ||
      get_number(uris, props, P_STEP, &has_step, &msg->step, fault) ||
      get_points(uris, props, msg, fault) ||
      get_urid(uris, props, P_PROPERTY, &msg->property, fault)) {
    return CH_PROTO_MALFORMED;
  }
  msg->has_pos    = has_x && has_y;
  msg->fade       = has_fade ? msg->fade : -1.0f;
  msg->build_ms   = has_time ? msg->build_ms : 0.0f;
  msg->generation = has_gen ? msg->generation : 0;
  if (off < 0 || off > UINT32_MAX || tot < 0 || tot > UINT32_MAX || off > tot) {
    return fail(fault, props->key[P_OFFSET], 0,
                "is outside its ch:total (0 .. ch:total)");
  }
  const char* q_name = NULL;
  if (get_string(uris, props, P_QUANTIZE, &q_name, NULL, fault)) {
    return CH_PROTO_MALFORMED;
  }
  if (q_name) {
    q = !strcmp(q_name, "beat")                 ? CH_QUANTIZE_BEAT
        : !strcmp(q_name, "bar")                ? CH_QUANTIZE_BAR
        : !strcmp(q_name, "none") || !q_name[0] ? CH_QUANTIZE_NONE
                                                : -1;
  }
  if (q < 0 || q > CH_QUANTIZE_BAR) {
    return fail(fault, props->key[P_QUANTIZE], 0,
                "must be \"beat\", \"bar\" or 0 (none), 1 (beat), 2 (bar)");
  }
  msg->offset   = (uint32_t)off;
  msg->total    = (uint32_t)tot;
  msg->quantize = (uint32_t)q;
  return CH_PROTO_OK;
}

/* time:Position: every field the host gave (numbers of any type). */
CH_REALTIME static ChProtoStatus
read_position(const ChUris* const  uris,
              const ChProps* const props,
              ChPosition* const    pos,
              ChMsgFault* const    fault)
{
  float bar = 0.0f;
  if (get_number(uris, props, P_BAR, &pos->has_bar, &bar, fault) ||
      get_number(uris, props, P_BAR_BEAT, &pos->has_bar_beat, &pos->bar_beat,
                 fault) ||
      get_number(uris, props, P_BEATS_PER_BAR, &pos->has_beats_per_bar,
                 &pos->beats_per_bar, fault) ||
      get_number(uris, props, P_BPM, &pos->has_bpm, &pos->bpm, fault) ||
      get_number(uris, props, P_SPEED, &pos->has_speed, &pos->speed, fault)) {
    return CH_PROTO_MALFORMED;
  }
  /* A Long bar exactly, if that is what came (floats lose bars > 2^24). */
  bool    has_long = false;
  int64_t whole    = 0;
  if (get_integer(uris, props, P_BAR, &has_long, &whole, fault)) {
    return CH_PROTO_MALFORMED;
  }
  pos->bar = has_long ? whole : (int64_t)bar;
  return CH_PROTO_OK;
}

/* What depends on the message's kind: Gate's implied parameter and 0/1
   value, patch:Set's value by its property, time:Position's fields. */
CH_REALTIME static ChProtoStatus
read_kind_specific(const ChUris* const  uris,
                   const ChProps* const props,
                   ChMsg* const         msg,
                   ChMsgFault* const    fault)
{
  if (msg->kind == CH_MSG_GATE) {
    msg->param = "gate";
    msg->value = msg->value > 0.5f ? 1.0f : 0.0f;
  } else if (msg->kind == CH_MSG_POSITION) {
    return read_position(uris, props, &msg->position, fault);
  } else if (msg->kind == CH_MSG_PUT && msg->property == uris->ch_fadeTime) {
    bool has = false;
    if (get_number(uris, props, P_PATCH_VALUE, &has, &msg->fade, fault)) {
      return CH_PROTO_MALFORMED;
    }
    msg->fade = has ? msg->fade : -1.0f;
  } else if (msg->kind == CH_MSG_PUT) {
    const char*     value = NULL;
    uint32_t        len   = 0;
    const LV2_Atom* atom  = props->atom[P_PATCH_VALUE];
    if (get_string(uris, props, P_PATCH_VALUE, &value, &len, fault)) {
      return CH_PROTO_MALFORMED;
    }
    msg->value_is_path = atom && atom->type == uris->atom_Path;
    if (msg->property == uris->ch_patchFile) {
      msg->file = value;
    } else {
      msg->text     = value;
      msg->text_len = value ? len : 0u;
    }
  } else if (msg->kind == CH_MSG_PATCH && msg->text &&
             (uint64_t)msg->offset + msg->text_len > msg->total) {
    return fail(fault, uris->ch_text, msg->text_len,
                "piece of %s bytes runs past ch:total");
  }
  return CH_PROTO_OK;
}

CH_REALTIME ChProtoStatus
ch_msg_read(const ChUris* const   uris,
            const LV2_Atom* const atom,
            const uint32_t        capacity,
            ChMsg* const          msg,
            ChMsgFault* const     fault)
{
  *msg = ch_msg_init(CH_MSG_NONE);
  memset(fault, 0, sizeof(*fault));
  const uint8_t* const p    = (const uint8_t*)atom;
  uint32_t             type = 0;
  uint32_t             size = 0;
  if (!atom_fits(p, capacity, &type, &size)) {
    return fail(fault, 0, capacity < sizeof(LV2_Atom) ? capacity : size,
                capacity < sizeof(LV2_Atom)
                  ? "atom cut short: %s bytes, less than its header"
                  : "atom has size %s past the end of its container");
  }
  if (type != uris->atom_Object) {
    return CH_PROTO_OK; /* MIDI and other atoms are not messages */
  }
  if (size < sizeof(LV2_Atom_Object_Body)) {
    return fail(fault, 0, size, "object of %s bytes has no room for its type");
  }
  fault->otype = msg->otype = rd32(p + sizeof(LV2_Atom) + 4u);
  msg->kind                 = kind_of(uris, msg->otype);
  ChProps props;
  memset(&props, 0, sizeof(props));
  const uint8_t* const body   = p + sizeof(LV2_Atom);
  const ChProtoStatus  walked = read_props(
     uris, body + sizeof(LV2_Atom_Object_Body), body + size, &props, fault);
  /* The properties before a fault are sound: the error can carry ch:seq. */
  ChMsgFault    ignored;
  ChProtoStatus st = read_seq(uris, &props, msg, walked ? &ignored : fault);
  st               = walked ? walked : st;
  fault->has_seq   = msg->has_seq;
  fault->seq       = msg->seq;
  st               = st ? st : read_strings(uris, &props, msg, fault);
  st               = st ? st : read_numbers(uris, &props, msg, fault);
  st               = st ? st : read_kind_specific(uris, &props, msg, fault);
  if (st) {
    const ChMsgKind kind  = msg->kind;
    const LV2_URID  otype = msg->otype;
    *msg                  = ch_msg_init(kind);
    msg->otype            = otype;
  }
  return st;
}

/* Error text, without printf (real-time) */

typedef struct {
  char*  buf;
  size_t size;
  size_t len;
} ChText;

CH_REALTIME static void
put(ChText* const t, const char* const s)
{
  for (size_t i = 0; s[i] && t->len + 1u < t->size; ++i) {
    t->buf[t->len++] = s[i];
  }
  t->buf[t->len] = '\0';
}

CH_REALTIME static void
put_u64(ChText* const t, uint64_t v)
{
  char digits[24];
  int  n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v);
  char out[24];
  for (int i = 0; i < n; ++i) {
    out[i] = digits[n - 1 - i];
  }
  out[n] = '\0';
  put(t, out);
}

/* A known URID's short name, or "<URID n>". */
CH_REALTIME static void
put_urid(ChText* const t, const ChUris* const uris, const LV2_URID urid)
{
  const char* const name = ch_uri_name(uris, urid);
  if (name) {
    put(t, name);
  } else {
    put(t, "<URID ");
    put_u64(t, urid);
    put(t, ">");
  }
}

CH_REALTIME const char*
ch_msg_fault_text(const ChUris* const     uris,
                  const ChMsgFault* const fault,
                  char* const             buf,
                  const size_t            size)
{
  ChText t = { buf, size, 0 };
  if (!size) {
    return buf;
  }
  buf[0] = '\0';
  put(&t, "malformed ");
  if (fault->otype) {
    put_urid(&t, uris, fault->otype);
  } else {
    put(&t, "message");
  }
  put(&t, ": ");
  if (fault->key) {
    put(&t, "property ");
    put_urid(&t, uris, fault->key);
    put(&t, " ");
  }
  const char* const reason = fault->reason ? fault->reason : "is malformed";
  for (const char* r = reason; *r; ++r) {
    if (r[0] == '%' && r[1] == 's') {
      put_u64(&t, fault->size);
      ++r;
    } else {
      const char c[2] = { *r, '\0' };
      put(&t, c);
    }
  }
  return buf;
}

/* Encoding */

CH_REALTIME static LV2_URID
otype_of(const ChUris* const uris, const ChMsg* const msg)
{
  switch (msg->kind) {
  case CH_MSG_CREATE:
    return uris->ch_Create;
  case CH_MSG_DELETE:
    return uris->ch_Delete;
  case CH_MSG_CONNECT:
    return uris->ch_Connect;
  case CH_MSG_DISCONNECT:
    return uris->ch_Disconnect;
  case CH_MSG_SET:
  case CH_MSG_PARAM:
    return uris->ch_Set;
  case CH_MSG_GATE:
    return uris->ch_Gate;
  case CH_MSG_COMMIT:
    return uris->ch_Commit;
  case CH_MSG_ABORT:
    return uris->ch_Abort;
  case CH_MSG_LOAD:
    return uris->ch_Load;
  case CH_MSG_UNDO:
    return uris->ch_Undo;
  case CH_MSG_REDO:
    return uris->ch_Redo;
  case CH_MSG_GET:
    return uris->patch_Get;
  case CH_MSG_PUT:
  case CH_MSG_PROPERTY:
    return uris->patch_Set;
  case CH_MSG_ACK:
    return uris->ch_Ack;
  case CH_MSG_COMMITTED:
    return uris->ch_Committed;
  case CH_MSG_ERROR:
    return uris->ch_Error;
  case CH_MSG_PATCH:
    return uris->ch_Patch;
  case CH_MSG_LEVEL:
    return uris->ch_Level;
  case CH_MSG_MOVE:
    return uris->ch_Move;
  case CH_MSG_POSITION:
    return uris->time_Position;
  case CH_MSG_PROBE:
    return uris->ch_Probe;
  case CH_MSG_RENAME:
    return uris->ch_Rename;
  case CH_MSG_POLYPHONY:
    return uris->ch_Polyphony;
  case CH_MSG_SCOPE:
    return uris->ch_Scope;
  case CH_MSG_ACTIVITY:
    return uris->ch_Activity;
  case CH_MSG_UNKNOWN:
    return msg->otype;
  case CH_MSG_NONE:
  case CH_MSG_N_KINDS:
    break;
  }
  return 0;
}

/* The string a property carries: `len` bytes of `s`, or all of it. */
CH_REALTIME static uint32_t
text_length(const char* const s, const uint32_t len)
{
  return len ? len : (uint32_t)strlen(s);
}

CH_REALTIME static uint64_t
string_cost(const char* const s, const uint32_t len)
{
  return s ? sizeof(LV2_Atom_Property_Body) + pad8(text_length(s, len) + 1u)
           : 0u;
}

CH_REALTIME uint32_t
ch_msg_size(const ChMsg* const msg)
{
  const uint64_t number = sizeof(LV2_Atom_Property_Body) + 8u;
  /* Header, object body, and room for every number a message may carry. */
  uint64_t size = sizeof(LV2_Atom) + sizeof(LV2_Atom_Object_Body) + 5u * number;
  size += string_cost(msg->module, 0) + string_cost(msg->module_kind, 0);
  size += string_cost(msg->from, 0) + string_cost(msg->to, 0);
  size += string_cost(msg->param, 0) + string_cost(msg->message, 0);
  /* A ch:Patch piece is a slice of a longer text: never measured. */
  size += msg->kind == CH_MSG_PATCH
            ? sizeof(LV2_Atom_Property_Body) + pad8(msg->text_len + 1u)
            : string_cost(msg->text, msg->text_len);
  size += string_cost(msg->file, 0) + string_cost(msg->port, 0);
  const uint64_t vector = sizeof(LV2_Atom_Property_Body) +
                          sizeof(LV2_Atom_Vector_Body) +
                          pad8((uint64_t)msg->n_points * sizeof(float));
  size += msg->points ? vector : 0u;
  size += msg->cpu ? vector : 0u;
  return size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
}

typedef struct {
  LV2_Atom_Forge* forge;
  bool            ok;
} ChOut;

CH_REALTIME static void
out_key(ChOut* const o, const LV2_URID key)
{
  o->ok = o->ok && lv2_atom_forge_key(o->forge, key);
}

CH_REALTIME static void
out_string(ChOut* const      o,
           const LV2_URID    key,
           const LV2_URID    type,
           const char* const s,
           const uint32_t    len)
{
  if (!s) {
    return;
  }
  out_key(o, key);
  const uint32_t n = text_length(s, len);
  o->ok =
    o->ok && (type == o->forge->Path ? lv2_atom_forge_path(o->forge, s, n)
                                     : lv2_atom_forge_string(o->forge, s, n));
}

CH_REALTIME static void
out_int(ChOut* const o, const LV2_URID key, const int64_t v, const bool is_long)
{
  out_key(o, key);
  o->ok = o->ok && (is_long ? lv2_atom_forge_long(o->forge, v)
                            : lv2_atom_forge_int(o->forge, (int32_t)v));
}

CH_REALTIME static void
out_float(ChOut* const o, const LV2_URID key, const float v)
{
  out_key(o, key);
  o->ok = o->ok && lv2_atom_forge_float(o->forge, v);
}

CH_REALTIME static void
out_urid(ChOut* const o, const LV2_URID key, const LV2_URID v)
{
  out_key(o, key);
  o->ok = o->ok && lv2_atom_forge_urid(o->forge, v);
}

/* An atom:Vector of `n` floats. */
CH_REALTIME static void
out_floats(ChOut* const o, const LV2_URID key, const uint32_t n, const float* v)
{
  out_key(o, key);
  o->ok = o->ok &&
          lv2_atom_forge_vector(o->forge, sizeof(float), o->forge->Float, n, v);
}

/* time:Position: the fields that are set (bar as a Long, as hosts do). */
CH_REALTIME static void
write_position(ChOut* const o, const ChUris* const u, const ChPosition* const p)
{
  if (p->has_bar) {
    out_int(o, u->time_bar, p->bar, true);
  }
  if (p->has_bar_beat) {
    out_float(o, u->time_barBeat, p->bar_beat);
  }
  if (p->has_beats_per_bar) {
    out_float(o, u->time_beatsPerBar, p->beats_per_bar);
  }
  if (p->has_bpm) {
    out_float(o, u->time_beatsPerMinute, p->bpm);
  }
  if (p->has_speed) {
    out_float(o, u->time_speed, p->speed);
  }
}

/* ch:Commit's optional fade and quantisation. */
CH_REALTIME static void
write_commit(ChOut* const o, const ChUris* const u, const ChMsg* const m)
{
  if (m->fade >= 0.0f) {
    out_float(o, u->ch_fade, m->fade);
  }
  if (m->quantize == CH_QUANTIZE_BEAT || m->quantize == CH_QUANTIZE_BAR) {
    out_string(o, u->ch_quantize, u->atom_String,
               m->quantize == CH_QUANTIZE_BAR ? "bar" : "beat", 0);
  } else if (m->quantize) {
    out_int(o, u->ch_quantize, m->quantize, false); /* as given: refused */
  }
}

/* patch:Set's property and its value: a number, a path or a string. */
CH_REALTIME static void
write_property(ChOut* const o, const ChUris* const u, const ChMsg* const m)
{
  const LV2_URID path = u->atom_Path;
  out_urid(o, u->patch_property, m->property);
  if (m->property == u->ch_fadeTime) {
    out_float(o, u->patch_value, m->fade);
    return;
  }
  out_string(o, u->patch_value, path, m->file, 0);
  out_string(o, u->patch_value, m->value_is_path ? path : u->atom_String,
             m->text, m->text_len);
}

/* The properties of a request (or an echo), after ch:seq. */
CH_REALTIME static void
write_body(ChOut* const o, const ChUris* const u, const ChMsg* const m)
{
  const LV2_URID str  = u->atom_String;
  const LV2_URID path = u->atom_Path;
  switch (m->kind) {
  case CH_MSG_CREATE:
    out_string(o, u->ch_module, str, m->module, 0);
    out_string(o, u->ch_kind, str, m->module_kind, 0);
    if (m->has_pos) {
      out_float(o, u->ch_x, m->x);
      out_float(o, u->ch_y, m->y);
    }
    break;
  case CH_MSG_DELETE:
    out_string(o, u->ch_module, str, m->module, 0);
    break;
  case CH_MSG_MOVE:
    out_string(o, u->ch_module, str, m->module, 0);
    out_float(o, u->ch_x, m->x);
    out_float(o, u->ch_y, m->y);
    break;
  case CH_MSG_RENAME:
    out_string(o, u->ch_module, str, m->module, 0);
    out_string(o, u->ch_to, str, m->to, 0);
    break;
  case CH_MSG_PROBE:
    out_string(o, u->ch_module, str, m->module, 0);
    out_string(o, u->ch_port, str, m->port, 0);
    break;
  case CH_MSG_CONNECT:
  case CH_MSG_DISCONNECT:
    out_string(o, u->ch_from, str, m->from, 0);
    out_string(o, u->ch_to, str, m->to, 0);
    break;
  case CH_MSG_SET:
  case CH_MSG_PARAM:
    out_string(o, u->ch_module, str, m->module, 0);
    out_string(o, u->ch_param, str, m->param, 0);
    out_float(o, u->ch_value, m->value);
    break;
  case CH_MSG_GATE:
    out_string(o, u->ch_module, str, m->module, 0);
    out_key(o, u->ch_value);
    o->ok = o->ok && lv2_atom_forge_bool(o->forge, m->value > 0.5f);
    break;
  case CH_MSG_COMMIT:
    write_commit(o, u, m);
    break;
  case CH_MSG_POSITION:
    write_position(o, u, &m->position);
    break;
  case CH_MSG_LOAD:
    out_string(o, u->ch_text, str, m->text, m->text_len);
    out_string(o, u->ch_file, path, m->file, 0);
    break;
  case CH_MSG_GET:
    if (m->property) {
      out_urid(o, u->patch_property, m->property);
    }
    break;
  case CH_MSG_PUT:
  case CH_MSG_PROPERTY:
    write_property(o, u, m);
    break;
  default:
    break;
  }
}

/* The properties of the answers (or of a request), after ch:seq. */
CH_REALTIME static void
write_any_body(ChOut* const o, const ChUris* const u, const ChMsg* const m)
{
  const LV2_URID str = u->atom_String;
  switch (m->kind) {
  case CH_MSG_COMMITTED:
    out_int(o, u->ch_generation, m->generation, true);
    out_float(o, u->ch_buildTime, m->build_ms);
    break;
  case CH_MSG_ERROR:
    out_string(o, u->ch_message, str, m->message, 0);
    break;
  case CH_MSG_LEVEL:
  case CH_MSG_POLYPHONY: /* a request, but its body is a Level's */
    out_float(o, u->ch_value, m->value);
    break;
  case CH_MSG_ACTIVITY:
    out_int(o, u->ch_generation, m->generation, true);
    out_int(o, u->ch_offset, m->offset, false);
    out_int(o, u->ch_total, m->total, false);
    out_floats(o, u->ch_points, m->n_points, m->points);
    if (m->cpu) {
      out_floats(o, u->ch_cpu, m->n_points, m->cpu);
    }
    break;
  case CH_MSG_SCOPE:
    out_string(o, u->ch_module, str, m->module, 0);
    out_string(o, u->ch_port, str, m->port, 0);
    out_float(o, u->ch_step, m->step);
    out_floats(o, u->ch_points, m->n_points, m->points);
    break;
  case CH_MSG_PATCH:
    out_int(o, u->ch_generation, m->generation, true);
    out_int(o, u->ch_offset, m->offset, false);
    out_int(o, u->ch_total, m->total, false);
    /* A piece is a slice of a longer text: never measure it with strlen. */
    out_string(o, u->ch_text, str, m->text && m->text_len ? m->text : "",
               m->text_len);
    break;
  default:
    write_body(o, u, m);
    break;
  }
}

CH_REALTIME bool
ch_msg_write(LV2_Atom_Forge* const forge,
             const ChUris* const   uris,
             const ChMsg* const    msg)
{
  const LV2_URID otype = otype_of(uris, msg);
  if (!otype) {
    return false;
  }
  /* Check first: a forge out of space leaves a frame half-written. */
  if (forge->buf && (uint64_t)forge->offset + ch_msg_size(msg) > forge->size) {
    return false;
  }
  LV2_Atom_Forge_Frame frame;
  ChOut o = { forge, lv2_atom_forge_object(forge, &frame, 0, otype) != 0 };
  if (o.ok && msg->has_seq) {
    out_int(&o, uris->ch_seq, msg->seq, false);
  }
  if (o.ok) {
    write_any_body(&o, uris, msg);
    lv2_atom_forge_pop(forge, &frame);
  }
  return o.ok;
}
