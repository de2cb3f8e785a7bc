/* Every URI the plugin speaks, mapped once at instantiation. */
#ifndef CH_URIS_H
#define CH_URIS_H

#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/midi/midi.h>
#include <lv2/patch/patch.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>

#include <stdbool.h>

#define CH_URI        "urn:chronus:"
#define CH_PLUGIN_URI CH_URI "synth"

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
  /* answers */
  LV2_URID ch_Ack;
  LV2_URID ch_Committed;
  LV2_URID ch_Error;
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
  LV2_URID ch_patch;
  LV2_URID ch_patchFile;
  LV2_URID ch_program;
} ChUris;

static inline void
ch_uris_map(ChUris* const uris, LV2_URID_Map* const map)
{
  LV2_URID (*const m)(LV2_URID_Map_Handle, const char*) = map->map;
  LV2_URID_Map_Handle const h                           = map->handle;

  uris->atom_Bool            = m(h, LV2_ATOM__Bool);
  uris->atom_Double          = m(h, LV2_ATOM__Double);
  uris->atom_Float           = m(h, LV2_ATOM__Float);
  uris->atom_Int             = m(h, LV2_ATOM__Int);
  uris->atom_Long            = m(h, LV2_ATOM__Long);
  uris->atom_Object          = m(h, LV2_ATOM__Object);
  uris->atom_Path            = m(h, LV2_ATOM__Path);
  uris->atom_String          = m(h, LV2_ATOM__String);
  uris->atom_URID            = m(h, LV2_ATOM__URID);
  uris->atom_Sequence        = m(h, LV2_ATOM__Sequence);
  uris->midi_Event           = m(h, LV2_MIDI__MidiEvent);
  uris->patch_Get            = m(h, LV2_PATCH__Get);
  uris->patch_Set            = m(h, LV2_PATCH__Set);
  uris->patch_property       = m(h, LV2_PATCH__property);
  uris->patch_value          = m(h, LV2_PATCH__value);
  uris->patch_sequenceNumber = m(h, LV2_PATCH__sequenceNumber);
  uris->time_Position        = m(h, LV2_TIME__Position);
  uris->ch_Create            = m(h, CH_URI "Create");
  uris->ch_Delete            = m(h, CH_URI "Delete");
  uris->ch_Connect           = m(h, CH_URI "Connect");
  uris->ch_Disconnect        = m(h, CH_URI "Disconnect");
  uris->ch_Set               = m(h, CH_URI "Set");
  uris->ch_Gate              = m(h, CH_URI "Gate");
  uris->ch_Commit            = m(h, CH_URI "Commit");
  uris->ch_Abort             = m(h, CH_URI "Abort");
  uris->ch_Load              = m(h, CH_URI "Load");
  uris->ch_Ack               = m(h, CH_URI "Ack");
  uris->ch_Committed         = m(h, CH_URI "Committed");
  uris->ch_Error             = m(h, CH_URI "Error");
  uris->ch_seq               = m(h, CH_URI "seq");
  uris->ch_module            = m(h, CH_URI "module");
  uris->ch_kind              = m(h, CH_URI "kind");
  uris->ch_from              = m(h, CH_URI "from");
  uris->ch_to                = m(h, CH_URI "to");
  uris->ch_param             = m(h, CH_URI "param");
  uris->ch_value             = m(h, CH_URI "value");
  uris->ch_text              = m(h, CH_URI "text");
  uris->ch_file              = m(h, CH_URI "file");
  uris->ch_message           = m(h, CH_URI "message");
  uris->ch_generation        = m(h, CH_URI "generation");
  uris->ch_buildTime         = m(h, CH_URI "buildTime");
  uris->ch_patch             = m(h, CH_URI "patch");
  uris->ch_patchFile         = m(h, CH_URI "patchFile");
  uris->ch_program           = m(h, CH_URI "program");
}

/** A number atom (Float, Double, Int, Long or Bool) as a float.  Real-time. */
static inline bool
ch_atom_number(const ChUris* const   uris,
               const LV2_Atom* const atom,
               float* const          value)
{
  if (!atom) {
    return false;
  }
  /* Sizes are checked: a host's malformed atom must not be read past. */
  if (atom->type == uris->atom_Float && atom->size >= sizeof(float)) {
    *value = ((const LV2_Atom_Float*)atom)->body;
  } else if (atom->type == uris->atom_Double &&
             atom->size >= sizeof(double)) {
    *value = (float)((const LV2_Atom_Double*)atom)->body;
  } else if (atom->type == uris->atom_Int && atom->size >= sizeof(int32_t)) {
    *value = (float)((const LV2_Atom_Int*)atom)->body;
  } else if (atom->type == uris->atom_Long && atom->size >= sizeof(int64_t)) {
    *value = (float)((const LV2_Atom_Long*)atom)->body;
  } else if (atom->type == uris->atom_Bool && atom->size >= sizeof(int32_t)) {
    *value = ((const LV2_Atom_Bool*)atom)->body ? 1.0f : 0.0f;
  } else {
    return false;
  }
  return true;
}

/**
   The text of a String or Path atom that ends in its terminator (as the
   Atom spec requires), or NULL.  Real-time.
*/
static inline const char*
ch_atom_string(const ChUris* const uris, const LV2_Atom* const atom)
{
  const char* const text =
    atom && atom->size &&
        (atom->type == uris->atom_String || atom->type == uris->atom_Path)
      ? (const char*)LV2_ATOM_BODY_CONST(atom)
      : NULL;
  return text && !text[atom->size - 1u] ? text : NULL;
}

#endif /* CH_URIS_H */
