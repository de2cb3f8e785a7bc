/* The UI's messages to the plugin and what it makes of the plugin's
   answers, all through the protocol module. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write one message to the plugin's control port. */
static void
send(ChUi* const ui, const ChMsg* const msg)
{
  lv2_atom_forge_set_buffer(&ui->forge, ui->msg, sizeof(ui->msg));
  if (!ch_msg_write(&ui->forge, &ui->uris, msg)) {
    return; /* too big for our buffer: names are short, cannot happen */
  }
  const LV2_Atom* const atom = (const LV2_Atom*)ui->msg;
  ui->write(ui->controller, CH_UI_PORT_CONTROL, lv2_atom_total_size(atom),
            ui->atom_eventTransfer, atom);
}

void
ch_ui_send(ChUi* const ui, const ChMsg* const msg)
{
  send(ui, msg);
}

void
ch_ui_send_get(ChUi* const ui)
{
  const ChMsg msg       = ch_msg_init(CH_MSG_GET);
  ui->client.want_patch = false;
  send(ui, &msg);
}

void
ch_ui_ask_level(ChUi* const ui)
{
  if (!ui->level_asked) {
    ChMsg msg       = ch_msg_init(CH_MSG_GET);
    msg.property    = ui->uris.ch_level;
    ui->level_asked = true;
    send(ui, &msg);
  }
}

/* A ch:Level: the meter rises at once and falls back slowly; it is drawn
   again only when it moves by a visible step. */
static void
on_level(ChUi* const ui, const float peak)
{
  ui->level_asked = false;
  float shown     = fmaxf(peak, ui->meter * 0.85f);
  if (shown < 0.001f) { /* -60 dB: the bottom of the meter */
    shown = 0.0f;
  }
  const float db_old  = ui->meter > 0.0f ? 20.0f * log10f(ui->meter) : -70.0f;
  const float db_new  = shown > 0.0f ? 20.0f * log10f(shown) : -70.0f;
  ui->meter           = shown;
  ui->client.level[0] = ui->client.level[1] = shown;
  if (fabsf(db_new - db_old) >= 0.25f) {
    ui->dirty = true;
  }
}

void
ch_ui_set_param(ChUi* const ui,
                const int   box,
                const int   param,
                const float value)
{
  ChBox* const b = &ui->scene.boxes[box];
  if (memcmp(&b->params[param], &value, sizeof(float))) {
    const char* const name = b->kind->params[param].name;
    b->params[param]       = value;
    ch_client_param(&ui->client, b->name, name, value);
    /* A ch:Set acts on the playing patch and on standby alike: the staged
       edits' picture has it too, or their next gesture would show the
       old value. */
    if (ui->preview) {
      ch_model_set(ui->preview, b->name, name, value, NULL);
    }
    ui->dirty = true;
  }
}

void
ch_ui_send_set(ChUi* const ui, const ChParamRef ref, const float value)
{
  const ChBox* const b = &ui->scene.boxes[ref.box];
  if (!memcmp(&b->params[ref.param], &value, sizeof(float))) {
    return;
  }
  const ChMsg msg = ch_msg_set(b->name, b->kind->params[ref.param].name, value);
  send(ui, &msg);
  ch_ui_set_param(ui, ref.box, ref.param, value); /* the echo will confirm it */
}

void
ch_ui_send_set_named(ChUi* const       ui,
                     const char* const module,
                     const char* const param,
                     const float       value)
{
  const ChMsg msg = ch_msg_set(module, param, value);
  send(ui, &msg);
  if (ui->preview) { /* only staged mode has one */
    ch_model_set(ui->preview, module, param, value, NULL);
  }
}

void
ch_ui_send_program(ChUi* const ui, const int program)
{
  const float value = (float)program;
  ui->write(ui->controller, CH_UI_PORT_PROGRAM, sizeof(float), 0, &value);
  ch_client_program(&ui->client, value);
  ui->dirty = true;
}

/* "module:port" of output (or input) `port` of box `box`. */
static void
endpoint(const ChUi* const ui,
         const int         box,
         const int         port,
         const bool        output,
         char* const       buf,
         const size_t      size)
{
  const ChBox* const b = &ui->scene.boxes[box];
  snprintf(buf, size, "%s:%s", b->name,
           output ? b->kind->outputs[port].name : b->kind->inputs[port].name);
}

/* Staged mode: the patch the pending edits make, for the picture. */
static ChModel*
preview(ChUi* const ui)
{
  if (ui->staged && !ui->preview) {
    ui->preview = ch_model_copy(ui->client.model);
  }
  return ui->staged ? ui->preview : NULL;
}

/* A ch:Connect (`connect`) or ch:Disconnect of "module:port" `from` and
   `to`, and the same edit on the preview. */
static void
send_link(ChUi* const       ui,
          const bool        connect,
          const char* const from,
          const char* const to)
{
  ChMsg msg = ch_msg_init(connect ? CH_MSG_CONNECT : CH_MSG_DISCONNECT);
  msg.from  = from;
  msg.to    = to;
  send(ui, &msg);
  if (preview(ui) && connect) {
    ch_model_connect(ui->preview, from, to, NULL);
  } else if (preview(ui)) {
    ch_model_disconnect(ui->preview, from, to, NULL);
  }
}

void
ch_ui_send_connect(ChUi* const ui,
                   const int   from_box,
                   const int   from_port,
                   const int   to_box,
                   const int   to_port)
{
  char from[CH_NAME_MAX + 24];
  char to[CH_NAME_MAX + 24];
  endpoint(ui, from_box, from_port, true, from, sizeof(from));
  endpoint(ui, to_box, to_port, false, to, sizeof(to));
  send_link(ui, true, from, to);
}

void
ch_ui_send_connect_named(ChUi* const       ui,
                         const char* const from,
                         const char* const to)
{
  send_link(ui, true, from, to);
}

void
ch_ui_send_disconnect(ChUi* const ui, const int cable)
{
  const ChCable* const c = &ui->scene.cables[cable];
  char                 from[CH_NAME_MAX + 24];
  char                 to[CH_NAME_MAX + 24];
  endpoint(ui, (int)c->from_box, (int)c->from_port, true, from, sizeof(from));
  endpoint(ui, (int)c->to_box, (int)c->to_port, false, to, sizeof(to));
  send_link(ui, false, from, to);
}

void
ch_ui_send_rename(ChUi* const ui, const int box, const char* const to)
{
  ChMsg msg  = ch_msg_init(CH_MSG_RENAME);
  msg.module = ui->scene.boxes[box].name;
  msg.to     = to;
  send(ui, &msg);
  if (preview(ui)) {
    ch_model_rename(ui->preview, msg.module, to, NULL);
  }
}

void
ch_ui_send_delete(ChUi* const ui, const int box)
{
  ChMsg msg  = ch_msg_init(CH_MSG_DELETE);
  msg.module = ui->scene.boxes[box].name;
  send(ui, &msg);
  if (preview(ui)) {
    ch_model_delete(ui->preview, msg.module, NULL);
  }
}

void
ch_ui_send_create(ChUi* const       ui,
                  const char* const name,
                  const char* const kind,
                  const float       x,
                  const float       y)
{
  ChMsg msg       = ch_msg_init(CH_MSG_CREATE);
  msg.module      = name;
  msg.module_kind = kind;
  msg.has_pos     = true;
  msg.x           = x;
  msg.y           = y;
  send(ui, &msg);
  if (preview(ui) && !ch_model_create(ui->preview, name, kind, NULL)) {
    ch_model_set_position(ui->preview, name, x, y, NULL);
  }
}

void
ch_ui_send_polyphony(ChUi* const ui, const uint32_t voices)
{
  if (voices == ui->scene.polyphony) {
    return;
  }
  ChMsg msg     = ch_msg_init(CH_MSG_POLYPHONY);
  msg.value     = (float)voices;
  msg.has_value = true;
  send(ui, &msg);
  if (preview(ui)) {
    ch_model_set_polyphony(ui->preview, voices, NULL);
  }
  ch_ui_end_gesture(ui);
}

void
ch_ui_send_undo(ChUi* const ui, const bool undo)
{
  const ChMsg msg = ch_msg_init(undo ? CH_MSG_UNDO : CH_MSG_REDO);
  send(ui, &msg);
}

void
ch_ui_send_move(ChUi* const ui, const int box)
{
  ChBox* const b   = &ui->scene.boxes[box];
  ChMsg        msg = ch_msg_init(CH_MSG_MOVE);
  msg.module       = b->name;
  msg.has_pos      = true;
  msg.x            = b->rect.x;
  msg.y            = b->rect.y;
  send(ui, &msg);
  b->placed = true;
  ch_model_set_position(ui->client.model, b->name, b->rect.x, b->rect.y, NULL);
  if (ui->preview) {
    ch_model_set_position(ui->preview, b->name, b->rect.x, b->rect.y, NULL);
  }
}

void
ch_ui_send_commit(ChUi* const ui)
{
  ChMsg msg   = ch_msg_init(CH_MSG_COMMIT);
  msg.has_seq = true;
  msg.seq = ui->seq = ui->seq % 1000000 + 1;
  ui->commit_seq    = msg.seq;
  send(ui, &msg);
}

/* Our commit was refused: throw its edits away too, so the plugin's
   standby patch is the playing one again and the next gesture starts
   clean.  The sound never changed. */
static void
refused(ChUi* const ui, const ChMsg* const msg)
{
  if (ui->commit_seq && msg->has_seq && msg->seq == ui->commit_seq) {
    const ChMsg abort = ch_msg_init(CH_MSG_ABORT);
    send(ui, &abort);
    ui->commit_seq = 0;
    ui->own_edit   = false;
  }
}

bool
ch_ui_flagged(const ChUi* const ui, const int box)
{
  const ChClient* const c = &ui->client;
  return c->error[0] && c->newest <= c->error_generation &&
         ch_text_names(c->error, ui->scene.boxes[box].name);
}

/* True if the two scenes show the same modules in the same places;
   `same_values` tells whether their parameters and cables agree too. */
static bool
same_layout(const ChScene* const a,
            const ChScene* const b,
            bool* const          same_values)
{
  *same_values = false;
  if (a->n_boxes != b->n_boxes) {
    return false;
  }
  bool values = a->n_cables == b->n_cables && a->polyphony == b->polyphony &&
                (!a->n_cables ||
                 !memcmp(a->cables, b->cables, a->n_cables * sizeof(ChCable)));
  for (uint32_t i = 0; i < a->n_boxes; ++i) {
    const ChBox* const x = &a->boxes[i];
    const ChBox* const y = &b->boxes[i];
    if (strcmp(x->name, y->name) || x->kind != y->kind ||
        memcmp(&x->rect, &y->rect, sizeof(ChRect))) {
      return false;
    }
    values = values && !memcmp(x->params, y->params, sizeof(x->params)) &&
             x->voiced == y->voiced;
  }
  *same_values = values;
  return true;
}

/* True if a box of `a` is in `b` under the same name, in the same place:
   the patch was edited, not replaced, so the view stays where it is. */
static bool
shares_a_box(const ChScene* const a, const ChScene* const b)
{
  for (uint32_t i = 0; i < a->n_boxes; ++i) {
    const int j = ch_scene_find(b, a->boxes[i].name);
    if (j >= 0 &&
        !memcmp(&a->boxes[i].rect, &b->boxes[j].rect, sizeof(ChRect))) {
      return true;
    }
  }
  return false;
}

/* The choice stays with the boxes' names; copies just made (Ctrl+D)
   become the choice once they are all shown. */
static void
choose_again(ChUi* const ui, ChScene* const fresh)
{
  bool copies = ui->n_want_chosen > 0;
  for (uint32_t i = 0; copies && i < ui->n_want_chosen; ++i) {
    copies = ch_scene_find(fresh, ui->want_chosen[i]) >= 0;
  }
  for (uint32_t b = 0; b < fresh->n_boxes; ++b) {
    const int old          = ch_scene_find(&ui->scene, fresh->boxes[b].name);
    fresh->boxes[b].chosen = !copies && old >= 0 && ui->scene.boxes[old].chosen;
  }
  for (uint32_t i = 0; copies && i < ui->n_want_chosen; ++i) {
    fresh->boxes[ch_scene_find(fresh, ui->want_chosen[i])].chosen = true;
  }
  if (copies) {
    free(ui->want_chosen);
    ui->want_chosen   = NULL;
    ui->n_want_chosen = 0;
  }
}

/* A whole patch arrived: redraw it; fit the view to a patch that is not
   an edit of the one shown. */
static void
show_patch(ChUi* const ui)
{
  ChScene fresh;
  memset(&fresh, 0, sizeof(fresh));
  /* Staged edits pending: show the patch they make. */
  const ChModel* const shown =
    ui->pending && ui->preview ? ui->preview : ui->client.model;
  if (!ch_scene_build(&fresh, shown)) {
    return;
  }
  choose_again(ui, &fresh);
  bool       same_values = false;
  const bool moved       = !same_layout(&fresh, &ui->scene, &same_values);
  /* Our own gesture's patch is an edit even when it shares no box with
     the last (the first module added to an empty picture). */
  const bool edited = shares_a_box(&fresh, &ui->scene) || ui->own_edit;
  ui->own_edit      = false;
  ch_scene_clear(&ui->scene);
  ui->scene = fresh;
  if (!moved && same_values && ui->fitted) {
    return; /* nothing to redraw */
  }
  /* Cables are numbered anew: what was selected or held may be gone. */
  ui->selected_cable = -1;
  if (ui->drag == CH_DRAG_CABLE) {
    ui->drag = CH_DRAG_NONE;
  }
  if (moved) { /* boxes are numbered anew: what pointed at one is gone */
    ui->drag         = CH_DRAG_NONE;
    ui->focus.box    = -1;
    ui->editing.box  = -1;
    ui->selected_box = -1;
    ui->hover.box    = -1;
    if (ui->menu == CH_MENU_CHOICE) {
      ui->menu = CH_MENU_NONE;
    }
  }
  /* Another patch: show it all (an empty one leaves the view where the
     user is about to add modules). */
  if ((moved && !edited && fresh.n_boxes) || !ui->fitted) {
    ch_ui_fit(ui);
    ui->fitted = true;
  }
  ui->dirty = true;
}

void
ch_ui_end_gesture(ChUi* const ui)
{
  ui->own_edit = true;
  if (!ui->staged) {
    ch_ui_send_commit(ui);
    return;
  }
  ++ui->pending;
  show_patch(ui);
  ui->dirty = true;
}

static void
drop_preview(ChUi* const ui)
{
  ch_model_free(ui->preview);
  ui->preview = NULL;
  ui->pending = 0;
  ui->dirty   = true;
}

void
ch_ui_stage_commit(ChUi* const ui)
{
  if (ui->pending) {
    ch_ui_send_commit(ui); /* the new patch comes back with ch:Committed */
  }
  drop_preview(ui);
}

void
ch_ui_stage_abort(ChUi* const ui)
{
  const ChMsg msg = ch_msg_init(CH_MSG_ABORT);
  send(ui, &msg);
  drop_preview(ui);
  show_patch(ui); /* back to the playing patch */
}

void
ch_ui_toggle_staged(ChUi* const ui)
{
  if (ui->staged) {
    ch_ui_stage_commit(ui);
  }
  ui->staged = !ui->staged;
  ui->dirty  = true;
}

/* A ch:Set echoed: follow it, unless the user is dragging that very
   parameter (the echo of an older step would pull it back). */
static void
follow_param(ChUi* const ui, const ChMsg* const msg)
{
  const int box = msg->module ? ch_scene_find(&ui->scene, msg->module) : -1;
  if (box < 0 || !msg->param || !msg->has_value) {
    return;
  }
  const int param = ch_kind_find_param(ui->scene.boxes[box].kind, msg->param);
  if (param < 0 || (ui->drag == CH_DRAG_PARAM && ui->drag_param.box == box &&
                    ui->drag_param.param == param)) {
    return;
  }
  ch_ui_set_param(ui, box, param, msg->value);
}

static void
on_answer(ChUi* const ui, const ChMsg* const msg)
{
  ChClient* const c = &ui->client;
  switch (msg->kind) {
  case CH_MSG_PATCH:
    if (msg->text &&
        ch_client_piece(c, msg->generation, msg->offset, msg->total, msg->text,
                        msg->text_len) == CH_PIECE_COMPLETE) {
      show_patch(ui);
    }
    break;
  case CH_MSG_PUT: /* patch:Set reads the same both ways */
  case CH_MSG_PROPERTY:
    if (msg->property == ui->uris.ch_patch && msg->text) {
      /* The whole patch in one message (an older plugin's answer). */
      if (ch_client_piece(c, c->newest, 0, msg->text_len, msg->text,
                          msg->text_len) == CH_PIECE_COMPLETE) {
        show_patch(ui);
      }
    } else if (msg->property == ui->uris.ch_patchFile) {
      ch_client_file(c, msg->file ? msg->file : msg->text);
      ui->dirty = true;
    }
    break;
  case CH_MSG_COMMITTED:
    if (msg->has_seq && msg->seq == ui->commit_seq) {
      ui->commit_seq = 0;
    }
    ch_client_committed(c, msg->generation);
    ui->dirty = true;
    break;
  case CH_MSG_LEVEL:
    on_level(ui, msg->value);
    break;
  case CH_MSG_SCOPE:
    ch_ui_on_scope(ui, msg);
    break;
  case CH_MSG_ACTIVITY:
    ch_ui_on_activity(ui, msg);
    break;
  case CH_MSG_ERROR:
    refused(ui, msg);
    ch_client_error(c, msg->message);
    ui->dirty = true;
    break;
  case CH_MSG_SET: /* a ch:Set on notify is an echo: it reads as a request */
  case CH_MSG_PARAM:
    follow_param(ui, msg);
    break;
  default:
    break;
  }
}

void
ch_ui_notify(ChUi* const ui, const LV2_Atom* const atom, const uint32_t size)
{
  ChMsg      msg;
  ChMsgFault fault;
  if (size < sizeof(LV2_Atom) ||
      ch_msg_read(&ui->uris, atom, size, &msg, &fault) != CH_PROTO_OK) {
    return; /* the plugin never sends these; nothing to show */
  }
  on_answer(ui, &msg);
  if (ui->client.want_patch) {
    ch_ui_send_get(ui);
  }
}
