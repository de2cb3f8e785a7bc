/* The Chronus control protocol: every URID, a checked decoder and one
   encoder for every message and answer of docs/protocol.md. */
#ifndef CH_PROTOCOL_H
#define CH_PROTOCOL_H

#include "../src/kind.h" /* CH_REALTIME */

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/midi/midi.h>
#include <lv2/patch/patch.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CH_URI        "urn:chronus:"
#define CH_PLUGIN_URI CH_URI "synth"

/** Most bytes of patch text one ch:Patch piece carries. */
#define CH_PATCH_PIECE 3072u

/** Points of one ch:Scope frame. */
#define CH_SCOPE_POINTS 256u

/** Modules of one ch:Activity piece, at most. */
#define CH_ACTIVITY_PIECE 256u

/** URIDs of the vocabulary (ttl/vocabulary.ttl documents each one). */
typedef struct {
  LV2_URID atom_Bool;
  LV2_URID atom_Double;
  LV2_URID atom_Float;
  LV2_URID atom_Int;
  LV2_URID atom_Long;
  LV2_URID atom_Object;
  LV2_URID atom_Path;
  LV2_URID atom_String;
  LV2_URID atom_URID;
  LV2_URID atom_Sequence;
  LV2_URID midi_Event;
  LV2_URID patch_Get;
  LV2_URID patch_Set;
  LV2_URID patch_property;
  LV2_URID patch_value;
  LV2_URID patch_sequenceNumber;
  LV2_URID time_Position;
  LV2_URID time_bar;
  LV2_URID time_barBeat;
  LV2_URID time_beatsPerBar;
  LV2_URID time_beatsPerMinute;
  LV2_URID time_speed;
  /* messages */
  LV2_URID ch_Create;
  LV2_URID ch_Delete;
  LV2_URID ch_Connect;
  LV2_URID ch_Disconnect;
  LV2_URID ch_Set;
  LV2_URID ch_Gate;
  LV2_URID ch_Commit;
  LV2_URID ch_Abort;
  LV2_URID ch_Load;
  LV2_URID ch_Undo;
  LV2_URID ch_Redo;
  /* answers */
  LV2_URID ch_Ack;
  LV2_URID ch_Committed;
  LV2_URID ch_Error;
  LV2_URID ch_Patch;
  LV2_URID ch_Level;
  LV2_URID ch_Move;
  LV2_URID ch_Probe;
  LV2_URID ch_Rename;
  LV2_URID ch_Polyphony;
  LV2_URID ch_Scope;
  LV2_URID ch_Activity;
  /* properties */
  LV2_URID ch_seq;
  LV2_URID ch_module;
  LV2_URID ch_kind;
  LV2_URID ch_from;
  LV2_URID ch_to;
  LV2_URID ch_param;
  LV2_URID ch_value;
  LV2_URID ch_text;
  LV2_URID ch_file;
  LV2_URID ch_message;
  LV2_URID ch_generation;
  LV2_URID ch_buildTime;
  LV2_URID ch_offset;
  LV2_URID ch_total;
  LV2_URID ch_fade;
  LV2_URID ch_quantize;
  LV2_URID ch_patch;
  LV2_URID ch_patchFile;
  LV2_URID ch_program;
  LV2_URID ch_level;
  LV2_URID ch_x;
  LV2_URID ch_y;
  LV2_URID ch_fadeTime;
  LV2_URID ch_port;
  LV2_URID ch_points;
  LV2_URID ch_step;
  LV2_URID ch_activity;
  LV2_URID ch_cpu;
  LV2_URID atom_Vector;
} ChUris;

/** Map every URI of the vocabulary.  Not real-time (the host's map). */
void ch_uris_map(ChUris* uris, LV2_URID_Map* map);

typedef enum {
  CH_MSG_NONE = 0, /* not ours (e.g. MIDI): ignore quietly */
  /* requests (host/UI/OSC -> plugin) */
  CH_MSG_CREATE,
  CH_MSG_DELETE,
  CH_MSG_CONNECT,
  CH_MSG_DISCONNECT,
  CH_MSG_SET,
  CH_MSG_GATE,
  CH_MSG_COMMIT,
  CH_MSG_ABORT,
  CH_MSG_LOAD,
  CH_MSG_UNDO, /* decoded now; handled when #12 lands */
  CH_MSG_REDO,
  CH_MSG_GET,    /* patch:Get */
  CH_MSG_PUT,    /* patch:Set of a plugin property (ch:patch, ch:patchFile) */
  CH_MSG_PROBE,  /* ch:Probe: send a ch:Scope of module:port (none: stop) */
  CH_MSG_RENAME, /* ch:Rename: module gets the name `to` */
  CH_MSG_POLYPHONY, /* ch:Polyphony: standby plays `value` notes at once */
  /* answers (plugin -> notify) */
  CH_MSG_ACK,
  CH_MSG_COMMITTED,
  CH_MSG_ERROR,
  CH_MSG_PATCH,    /* ch:Patch: a piece of the active patch's text */
  CH_MSG_PROPERTY, /* patch:Set answer: a property's value */
  CH_MSG_PARAM,    /* ch:Set echoed on notify (UIs follow) */
  CH_MSG_LEVEL,    /* ch:Level: output peak (value), answers patch:Get
                      of ch:level */
  CH_MSG_MOVE,     /* ch:Move: a module's place on the UI canvas (x, y) */
  CH_MSG_POSITION, /* time:Position: the host's transport (in, every
                      cycle); chronus-render sends it too */
  CH_MSG_SCOPE,    /* ch:Scope: a frame of the probed output (points) */
  CH_MSG_ACTIVITY, /* ch:Activity: module peaks from `offset` (points) */
  CH_MSG_UNKNOWN,  /* a ch: object of no known type, or a foreign one that
                      carries a ch:seq (it expects an answer) */
  CH_MSG_N_KINDS
} ChMsgKind;

/** Commit quantisation (ch:quantize). */
enum { CH_QUANTIZE_NONE = 0, CH_QUANTIZE_BEAT = 1, CH_QUANTIZE_BAR = 2 };

/** The host's transport (time:Position); a field is valid if its has_ is. */
typedef struct {
  bool    has_bar, has_bar_beat, has_beats_per_bar, has_bpm, has_speed;
  int64_t bar;           /* time:bar, counted from 0 */
  float   bar_beat;      /* time:barBeat, beats into the bar */
  float   beats_per_bar; /* time:beatsPerBar */
  float   bpm;           /* time:beatsPerMinute */
  float   speed;         /* time:speed: 0 stopped, 1 rolling */
} ChPosition;

/**
   A decoded (or to be encoded) message.  Strings point into the decoded
   atom, checked NUL-terminated within their size; NULL when absent (or of
   another type than the protocol says: handlers then refuse the message
   with their own words).
*/
typedef struct {
  ChMsgKind   kind;
  LV2_URID    otype; /* the object's type as received (UNKNOWN names it) */
  bool        has_seq;
  int32_t     seq;
  const char* module;      /* Create Delete Set Gate PARAM */
  const char* module_kind; /* Create */
  const char* from;        /* Connect Disconnect: "module:port" */
  const char* to;          /* Connect Disconnect: "module:port"; Rename */
  const char* param;       /* Set PARAM ("gate" for Gate, by the decoder) */
  /* Set Gate PARAM Polyphony: ch:value was a number */
  bool  has_value;
  float value; /* Set PARAM Polyphony; Gate (0 or 1) */
  /* Load (Turtle), PUT ch:patch, PATCH piece, PROPERTY string */
  const char* text;
  uint32_t    text_len; /* bytes of `text`, without the NUL */
  const char* file;     /* Load ch:file, PUT/PROPERTY ch:patchFile (Path) */
  LV2_URID    property; /* GET (0 = all), PUT, PROPERTY */
  /* PUT/PROPERTY: patch:value was an atom:Path */
  bool value_is_path;
  /* Commit ch:fade seconds (< 0 when absent); PUT/PROPERTY ch:fadeTime */
  float fade;
  /* Commit ch:quantize: CH_QUANTIZE_* (from "beat"/"bar" or 0/1/2) */
  uint32_t     quantize;
  ChPosition   position;   /* POSITION */
  int64_t      generation; /* COMMITTED, PATCH */
  float        build_ms;   /* COMMITTED */
  uint32_t     offset;     /* PATCH: byte offset of this piece */
  uint32_t     total;      /* PATCH: bytes of the whole patch text */
  const char*  message;    /* ERROR */
  bool         has_pos;    /* Create Move: ch:x and ch:y were numbers */
  float        x;          /* Create Move: where the UI shows it */
  float        y;
  const char*  port;     /* Probe Scope: an output of `module` */
  const float* points;   /* Scope: the frame, an atom:Vector of atom:Float */
  uint32_t     n_points; /* Scope: at most CH_SCOPE_POINTS */
  float        step;     /* Scope: seconds between two points */
  const float* cpu;      /* Activity: each module's share of the graph's
                            time (n_points of them), or NULL */
} ChMsg;

/** A message with no fields set (fade absent, no seq). */
ChMsg ch_msg_init(ChMsgKind kind);

/** A ch:Set of `module`:`param` = `value` (the strings are not copied). */
ChMsg ch_msg_set(const char* module, const char* param, float value);

typedef enum {
  CH_PROTO_OK        = 0, /* decoded; CH_MSG_NONE for what is not ours */
  CH_PROTO_MALFORMED = 1, /* sizes or encodings broken: see the fault */
} ChProtoStatus;

/**
   What was wrong with a malformed atom.  `reason` is a static string;
   `key` and `size` (when nonzero) name the property and the size read.
   ch_msg_fault_text() makes a sentence of it.
*/
typedef struct {
  const char* reason; /* e.g. "has size %s past the end of its object" */
  LV2_URID    otype;  /* the object's type, if it got that far */
  LV2_URID    key;    /* the property at fault, or 0 */
  uint64_t    size;   /* the size at fault, printed where reason has %s */
  bool        has_seq;
  int32_t     seq; /* the ch:seq, if read before the fault */
} ChMsgFault;

/**
   Decode `atom` (an event body or a worker record), of which `capacity`
   bytes (header included) are really there.  Every size is checked
   against its container before it is read, in 64-bit arithmetic, so no
   size can wrap.  Real-time safe.

   Kinds by object type: a patch:Set reads as CH_MSG_PUT and a ch:Set as
   CH_MSG_SET whichever way they travel (CH_MSG_PROPERTY and CH_MSG_PARAM
   only choose what ch_msg_write() writes); time:Position reads as
   CH_MSG_POSITION; atoms that are not objects read as CH_MSG_NONE; an object of
   any other type as CH_MSG_UNKNOWN with its `otype`.  A property of the wrong
   type reads as absent; one whose size does not fit, a string without its
   terminator, a number too small for its type or not finite is
   CH_PROTO_MALFORMED.
*/
CH_REALTIME ChProtoStatus ch_msg_read(const ChUris*   uris,
                                      const LV2_Atom* atom,
                                      uint32_t        capacity,
                                      ChMsg*          msg,
                                      ChMsgFault*     fault);

/**
   Write into `buf` a sentence for `fault`, e.g. "malformed ch:Set: property
   ch:module has size 4294967280 past the end of its object".  Real-time
   safe (no printf).  Returns `buf`.
*/
CH_REALTIME const char* ch_msg_fault_text(const ChUris*     uris,
                                          const ChMsgFault* fault,
                                          char*             buf,
                                          size_t            size);

/**
   The one encoder: writes `msg` as one atom:Object at the forge's position
   (the caller writes the event time first when in a sequence).  Returns
   false if it did not fit (forge out of space).  Real-time safe.
*/
CH_REALTIME bool ch_msg_write(LV2_Atom_Forge* forge,
                              const ChUris*   uris,
                              const ChMsg*    msg);

/** Bytes ch_msg_write() needs for `msg` at most (for space checks). */
CH_REALTIME uint32_t ch_msg_size(const ChMsg* msg);

/**
   A walk over the events of an atom:Sequence that cannot be fooled: each
   event header and body is checked against what is left of the sequence.
*/
typedef struct {
  const uint8_t* at;    /* next event */
  const uint8_t* end;   /* end of the sequence body */
  const char*    fault; /* static reason the walk stopped early, or NULL */
} ChSeqIter;

/**
   Begin a walk over `seq`, whose header is followed by `capacity` bytes
   in all (header included; the sequence's own size is checked against
   it).  False if `seq` is no usable sequence (then `it->fault` says why,
   or is NULL for a plain empty/absent one).  Real-time safe.
*/
CH_REALTIME bool ch_seq_begin(const ChUris*            uris,
                              const LV2_Atom_Sequence* seq,
                              uint64_t                 capacity,
                              ChSeqIter*               it);

/**
   The next event, or NULL at the end or at a malformed event (then
   `it->fault` is set).  `*body_capacity` is the bytes of the event's body
   really inside the sequence (>= its size).  Real-time safe.
*/
CH_REALTIME const LV2_Atom_Event* ch_seq_next(ChSeqIter* it,
                                              uint32_t*  body_capacity);

/** A number atom (Float, Double, Int, Long or Bool) of `capacity` bytes
    as a float.  Real-time safe. */
CH_REALTIME bool ch_atom_number(const ChUris*   uris,
                                const LV2_Atom* atom,
                                uint32_t        capacity,
                                float*          value);

/**
   The text of a String or Path atom of `capacity` bytes (header included)
   that ends in its terminator within its size, or NULL; `len` (may be
   NULL) gets its length.  Real-time safe.
*/
CH_REALTIME const char* ch_atom_string(const ChUris*   uris,
                                       const LV2_Atom* atom,
                                       uint32_t        capacity,
                                       uint32_t*       len);

/** Short name of a known URID ("ch:Set", "patch:value"), or NULL. */
CH_REALTIME const char* ch_uri_name(const ChUris* uris, LV2_URID urid);

#endif /* CH_PROTOCOL_H */
