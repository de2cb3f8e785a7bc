/* The UI test host: the real plugin and the real UI, embedded and driven
   with XTest the way a user would, checked against the plugin's own state.
   Prints PASS/FAIL lines; screenshots go to OUTDIR.

   Usage: ui-host OUTDIR [SCALE]     (run by test/e2e-ui.sh under Xvfb)
          ui-host --build-demo OUTDIR (the demo patch by hand, build-demo.c)
          ui-host --bank-shots OUTDIR [W H]  (pictures of the bank, docs) */
#include "rig.h"
#include "steps.h"

#include "../../src/patch.h"
#include "../../src/registry.h"
#include "../../ui/scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Rig         rig; /* large, and the URID map must not move */
const char* out_dir;
static int  failures;

void
report(const char* const name, const bool ok, const char* const why)
{
  printf("%s %s%s%s%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : " (",
         ok ? "" : why, ok ? "" : ")");
  fflush(stdout);
  failures += !ok;
}

void
shot(const char* const name)
{
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s.png", out_dir, name);
  if (!rig_screenshot(&rig, path)) {
    fprintf(stderr, "ui-host: cannot save %s\n", path);
  }
}

void
cycles(const int n)
{
  for (int i = 0; i < n; ++i) {
    rig_cycle(&rig);
  }
}

const ChUiProbe*
probe(void)
{
  return rig.ui[0].probe;
}

void*
ui0(void)
{
  return rig.ui[0].handle;
}

/* Run until UI `i` has received more than `after` whole patches. */
static bool
wait_patch(const int i, const unsigned after)
{
  for (int n = 0; n < 400; ++n) {
    rig_cycle(&rig);
    if (rig.ui[i].probe->seen(rig.ui[i].handle).patches > after) {
      cycles(2); /* let it draw */
      return true;
    }
  }
  return false;
}

ChModel*
bank_patch(const char* const name)
{
  char path[1024];
  snprintf(path, sizeof(path), "%s/presets/bank/%s.ttl", CH_SOURCE_DIR, name);
  ChModel* const model = ch_model_new();
  ChError        err;
  if (ch_patch_read_file(model, path, &err)) {
    fprintf(stderr, "ui-host: %s\n", err.msg);
  }
  return model;
}

/* The UI shows exactly the modules and links of `model`, in order. */
static bool
shows(const int i, const ChModel* const model)
{
  const ChUiProbe* const p    = rig.ui[i].probe;
  void* const            h    = rig.ui[i].handle;
  const ChUiSeen         seen = p->seen(h);
  bool                   ok   = seen.boxes == ch_model_n_modules(model) &&
            seen.cables == ch_model_n_links(model);
  for (uint32_t m = 0; ok && m < ch_model_n_modules(model); ++m) {
    ok = !strcmp(p->box_name(h, m), ch_model_module_name(model, m));
  }
  return ok;
}

static void
test_open(void)
{
  const bool opened = rig_ui_open(&rig, 0);
  report("ui_instantiates", opened, "instantiate or extension data failed");
  if (!opened) {
    exit(1);
  }
  const float s = rig.scale > 0 ? rig.scale : 1.0f;
  report("ui_asks_its_size",
         rig.ui[0].asked_w == (int)lroundf(960 * s) &&
           rig.ui[0].asked_h == (int)lroundf(600 * s),
         "ui:resize not called with 960x600 times the scale");
  const bool     got  = wait_patch(0, 0);
  ChModel* const init = bank_patch("00-init");
  report("ui_opens_showing_the_plugins_patch", got && shows(0, init),
         "modules or links differ from program 0");
  ch_model_free(init);
  shot("01-open");
  /* Cables in their signal colours, boxes drawn: the picture has them. */
  const unsigned long audio = rig_count_colour(&rig, 0xf49a30, 40);
  const unsigned long cv    = rig_count_colour(&rig, 0x4fb4e7, 40);
  const unsigned long gate  = rig_count_colour(&rig, 0x7cdb6d, 40);
  char                why[128];
  snprintf(why, sizeof(why), "audio %lu, cv %lu, gate %lu pixels", audio, cv,
           gate);
  report("ui_draws_cables_by_signal",
         audio > 150 * s && cv > 100 * s && gate > 100 * s, why);
}

static void
test_idle(void)
{
  const unsigned long before = probe()->seen(ui0()).redraws;
  cycles(60);
  report("ui_idle_redraws_nothing", probe()->seen(ui0()).redraws == before,
         "frames drawn while nothing changed");
}

/* Press at a parameter, move by `dx` in steps, release. */
static void
drag(const char* module, const char* param, const int dx, const bool shift)
{
  int x = 0;
  int y = 0;
  if (!probe()->param_point(ui0(), module, param, &x, &y)) {
    fprintf(stderr, "ui-host: %s:%s not on screen\n", module, param);
    return;
  }
  rig_move(&rig, x, y);
  cycles(2);
  if (shift) {
    rig_key(&rig, "Shift_L", false); /* tap: nothing; held below */
  }
  rig_button(&rig, 1, true);
  cycles(2);
  for (int step = 1; step <= 4; ++step) {
    rig_move(&rig, x + dx * step / 4, y);
    cycles(2);
  }
  rig_button(&rig, 1, false);
  cycles(4);
}

static const ChParamInfo*
info(const char* const kind, const char* const param)
{
  const ChKind* const k = ch_registry_find(kind);
  return &k->params[ch_kind_find_param(k, param)];
}

static void
test_drag(void)
{
  float before = 0.0f;
  float after  = 0.0f;
  float shown  = 0.0f;
  rig_plugin_param(&rig, "filter", "res", &before);
  drag("filter", "res", 40, false);
  const float s = rig.scale > 0 ? rig.scale : 1.0f;
  const float expect =
    ch_param_drag(info("svf", "res"), before, 40.0f / s, false);
  const bool ok = rig_plugin_param(&rig, "filter", "res", &after) &&
                  probe()->param_value(ui0(), "filter", "res", &shown);
  char why[160];
  snprintf(why, sizeof(why), "res %g -> plugin %g, UI %g, expected %g",
           (double)before, (double)after, (double)shown, (double)expect);
  report("ui_drag_changes_plugin_param",
         ok && after != before && fabsf(after - expect) < 1e-6f &&
           shown == after,
         why);
  shot("02-drag");
}

static void
double_click(const char* const module, const char* const param)
{
  int x = 0;
  int y = 0;
  probe()->param_point(ui0(), module, param, &x, &y);
  rig_move(&rig, x, y);
  for (int i = 0; i < 2; ++i) {
    rig_button(&rig, 1, true);
    rig_button(&rig, 1, false);
  }
  cycles(4);
}

static void
test_reset_and_scroll(void)
{
  float v = -1.0f;
  double_click("filter", "res");
  rig_plugin_param(&rig, "filter", "res", &v);
  report("ui_double_click_resets", v == info("svf", "res")->def,
         "res is not back at its default");

  float before = 0.0f;
  rig_plugin_param(&rig, "filter", "cutoff", &before);
  int x = 0;
  int y = 0;
  probe()->param_point(ui0(), "filter", "cutoff", &x, &y);
  rig_move(&rig, x, y);
  rig_button(&rig, 4, true); /* wheel up: one step */
  rig_button(&rig, 4, false);
  cycles(4);
  const float expect = ch_param_step(info("svf", "cutoff"), before, 1, false);
  rig_plugin_param(&rig, "filter", "cutoff", &v);
  char why[128];
  snprintf(why, sizeof(why), "cutoff %g -> %g, expected %g", (double)before,
           (double)v, (double)expect);
  report("ui_scroll_steps_param", fabsf(v - expect) < 1e-3f && v > before, why);
}

static void
test_keyboard(void)
{
  /* Tab twice from no focus: voice:transpose (the second parameter); Up steps
   * it. */
  const float zoom = probe()->seen(ui0()).zoom;
  rig_key(&rig, "Escape", false); /* no focus: Tab starts at the first */
  rig_key(&rig, "Tab", false);
  rig_key(&rig, "Tab", false);
  rig_key(&rig, "Up", false);
  cycles(4);
  float v = 0.0f;
  rig_plugin_param(&rig, "voice", "transpose", &v);
  const float expect =
    ch_param_step(info("voice", "transpose"), 0.0f, 1, false);
  report("ui_keyboard_focus_and_step", fabsf(v - expect) < 1e-6f,
         "Tab Tab Up did not step voice:transpose");
  shot("03-keyboard-focus");
  rig_key(&rig, "BackSpace", false); /* back to the default */
  rig_key(&rig, "Escape", false);
  rig_key(&rig, "minus", false);
  cycles(4);
  const bool zoomed_out = probe()->seen(ui0()).zoom < zoom;
  rig_key(&rig, "f", false);
  cycles(4);
  report("ui_zoom_and_fit_keys",
         zoomed_out && fabsf(probe()->seen(ui0()).zoom - zoom) < 1e-4f,
         "'-' did not zoom out or 'f' did not fit again");
  rig_plugin_param(&rig, "voice", "transpose", &v);
  report("ui_backspace_resets", v == 0.0f, "transpose not back at 0");
}

void
click_at(const int x, const int y)
{
  rig_move(&rig, x, y);
  rig_button(&rig, 1, true);
  rig_button(&rig, 1, false);
  cycles(4);
}

/* A click on a list parameter opens its choices; a click on one sets it.
   The program selector opens the bank the same way. */
static void
test_lists(void)
{
  int x = 0;
  int y = 0;
  probe()->param_point(ui0(), "osc", "shape", &x, &y);
  click_at(x, y);
  shot("03-choice-list");
  const bool opened = probe()->menu_point(ui0(), 2, &x, &y);
  if (opened) {
    click_at(x, y); /* "square" */
  }
  float shape = -1.0f;
  rig_plugin_param(&rig, "osc", "shape", &shape);
  report("ui_choice_list_sets_param", opened && shape == 2.0f,
         "the list did not open, or osc:shape is not square");

  click_at(60, 15); /* the program selector */
  shot("03-program-list");
  const bool listed = probe()->menu_point(ui0(), 7, &x, &y);
  rig_key(&rig, "Escape", false);
  cycles(4);
  report("ui_program_list_opens",
         listed && !probe()->menu_point(ui0(), 0, &x, &y),
         "the bank's 8 programs were not listed, or Escape left it open");
}

/* Does the plugin's patch have the link `from` -> `to` ("module:port")?
   Asks it afresh. */
bool
plugin_link(const char* const from, const char* const to)
{
  float ignored = 0.0f;
  rig_plugin_param(&rig, "out", "level", &ignored); /* fetch the patch */
  ChModel* const probe_model = ch_model_copy(rig.seen.model);
  ChError        err;
  /* Disconnecting succeeds exactly when the link is there. */
  const bool there =
    probe_model && !ch_model_disconnect(probe_model, from, to, &err);
  ch_model_free(probe_model);
  return there;
}

/* Press at (x0, y0), carry to (x1, y1) in steps, release. */
void
carry(const int         x0,
      const int         y0,
      const int         x1,
      const int         y1,
      const char* const shot_name)
{
  rig_move(&rig, x0, y0);
  rig_button(&rig, 1, true);
  cycles(2);
  for (int step = 1; step <= 4; ++step) {
    rig_move(&rig, x0 + (x1 - x0) * step / 4, y0 + (y1 - y0) * step / 4);
    cycles(2);
  }
  if (shot_name) {
    shot(shot_name);
  }
  rig_button(&rig, 1, false);
  for (int i = 0; i < 20; ++i) { /* the commit, then the patch again */
    rig_cycle(&rig);
  }
}

/* Where the port `spec` ("module:port") is on screen, an output or an
   input; false (and said) if it is not there. */
static bool
port_at(const char* const spec, const bool output, int* const x, int* const y)
{
  char module[32];
  snprintf(module, sizeof(module), "%s", spec);
  char* const port = strchr(module, ':');
  if (port) {
    *port = '\0';
  }
  if (!port || !probe()->port_point(ui0(), module, port + 1, output, x, y)) {
    fprintf(stderr, "ui-host: %s not on screen\n", spec);
    return false;
  }
  return true;
}

bool
plug(const char* const from, const char* const to, const char* const shot_name)
{
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;
  if (!port_at(from, true, &x0, &y0) || !port_at(to, false, &x1, &y1)) {
    return false;
  }
  carry(x0, y0, x1, y1, shot_name);
  return true;
}

bool
unplug(const char* const to)
{
  int x = 0;
  int y = 0;
  if (!port_at(to, false, &x, &y)) {
    return false;
  }
  carry(x, y, x, y + 110, NULL);
  return true;
}

/* A cable that closes a loop: the commit is refused, the modules of the
   cycle are marked, the plugin keeps its patch, and the next gesture
   works (the UI aborted the refused edit). */
static void
test_refused_cycle(void)
{
  plug("amp:out", "osc:fm", NULL);
  cycles(10);
  shot("03-cycle-refused");
  char why[600];
  snprintf(why, sizeof(why), "error '%s'", probe()->seen(ui0()).error);
  report("ui_refused_cycle_is_shown",
         strstr(probe()->seen(ui0()).error, "cycle") &&
           probe()->flagged(ui0(), "osc") && probe()->flagged(ui0(), "amp") &&
           !probe()->flagged(ui0(), "voice"),
         why);
  report("ui_refused_cycle_changes_nothing", !plugin_link("amp:out", "osc:fm"),
         "the looping link is in the plugin's patch");
  unplug("filter:in");
  const bool unplugged = !plugin_link("osc:out", "filter:in");
  plug("osc:out", "filter:in", NULL);
  report("ui_edits_work_after_a_refusal",
         unplugged && plugin_link("osc:out", "filter:in"),
         "an edit after the refused commit did not take");
}

/* Patching by hand: unplug a cable by its end, plug it back, select a
   cable and delete it, plug it again: each gesture one commit. */
static void
test_patching(void)
{
  unplug("filter:in");
  report("ui_unplug_by_dragging_cable_end",
         !plugin_link("osc:out", "filter:in"), "osc:out -> filter:in remains");

  /* Let go a little off the port: it still takes the cable. */
  int x  = 0;
  int y  = 0;
  int x1 = 0;
  int y1 = 0;
  port_at("osc:out", true, &x, &y);
  port_at("filter:in", false, &x1, &y1);
  carry(x, y, x1 + 2, y1 + 1, NULL);
  report("ui_plug_by_dragging_from_output", plugin_link("osc:out", "filter:in"),
         "osc:out -> filter:in missing");

  const bool found = probe()->cable_point(ui0(), "amp", "cv", &x, &y);
  click_at(x, y);
  shot("03-cable-selected");
  rig_key(&rig, "Delete", false);
  for (int i = 0; i < 20; ++i) {
    rig_cycle(&rig);
  }
  report("ui_select_cable_and_delete",
         found && !plugin_link("env:out", "amp:cv"),
         "env:out -> amp:cv remains");

  plug("env:out", "amp:cv", "03-carrying-cable");
  report("ui_replug_cable", plugin_link("env:out", "amp:cv"),
         "env:out -> amp:cv missing");
  test_refused_cycle();
}

/* Staged mode ('s'): edits wait, unheard, until Commit (Ctrl+Return);
   Abort (Ctrl+BackSpace) throws them away. */
static void
test_staged(void)
{
  const uint32_t n = probe()->seen(ui0()).cables;
  rig_key(&rig, "s", false);
  unplug("filter:in");
  shot("03-staged-pending");
  const bool waits =
    plugin_link("osc:out", "filter:in") && probe()->seen(ui0()).cables == n - 1;
  rig_ctrl_key(&rig, "Return", false);
  run_commits();
  report("ui_staged_edit_waits_for_commit",
         waits && !plugin_link("osc:out", "filter:in"),
         "the unplug was heard before Commit, or not after");

  plug("osc:out", "filter:in", NULL);
  const bool shown = probe()->seen(ui0()).cables == n;
  rig_ctrl_key(&rig, "BackSpace", false);
  run_commits();
  rig_ctrl_key(&rig, "Return", false); /* nothing pending: no commit */
  run_commits();
  report("ui_staged_abort_drops_edits",
         shown && !plugin_link("osc:out", "filter:in") &&
           probe()->seen(ui0()).cables == n - 1,
         "the aborted plug reached the plugin, or stayed on screen");
  rig_key(&rig, "s", false);
  plug("osc:out", "filter:in", NULL); /* live again: heard at once */
  report("ui_live_after_staged", plugin_link("osc:out", "filter:in"),
         "a gesture after leaving staged mode was not committed");
}

/* A value set while staged edits wait is heard at once (ch:Set acts on
   the playing patch and on standby), and the picture keeps it through the
   next staged gesture, which redraws from the edits, and after Abort. */
static void
test_staged_value(void)
{
  float before = 0.0f;
  rig_plugin_param(&rig, "filter", "res", &before);
  rig_key(&rig, "s", false);
  unplug("filter:in"); /* a staged edit */
  drag("filter", "res", 40, false);
  float heard = 0.0f;
  rig_plugin_param(&rig, "filter", "res", &heard);
  unplug("amp:cv"); /* the next one: the picture is drawn anew */
  float shown = 0.0f;
  probe()->param_value(ui0(), "filter", "res", &shown);
  shot("03-staged-value");
  rig_ctrl_key(&rig, "BackSpace", false);
  run_commits();
  float aborted = 0.0f;
  probe()->param_value(ui0(), "filter", "res", &aborted);
  rig_key(&rig, "s", false);
  char why[200];
  snprintf(why, sizeof(why),
           "res %g -> heard %g; shown after the next staged gesture %g, "
           "after Abort %g",
           (double)before, (double)heard, (double)shown, (double)aborted);
  report("ui_staged_value_stays_shown",
         heard != before && shown == heard && aborted == heard &&
           plugin_link("osc:out", "filter:in") &&
           plugin_link("env:out", "amp:cv"),
         why);
}

/* Double-click on the empty canvas, type to narrow the list of kinds,
   Return: the module is in the plugin's patch, where the click was. */
static void
test_add_module(void)
{
  const int cx = 860;
  const int cy = 500;
  /* Selecting a cable earlier opened the probe's scope in this corner: a
     click on it puts it away, as a user would before using the space. */
  int sx = 0;
  int sy = 0;
  if (probe()->scope_point(ui0(), &sx, &sy)) {
    rig_move(&rig, sx, sy);
    rig_button(&rig, 1, true);
    rig_button(&rig, 1, false);
    cycles(2);
  }
  rig_move(&rig, cx, cy);
  for (int i = 0; i < 2; ++i) {
    rig_button(&rig, 1, true);
    rig_button(&rig, 1, false);
  }
  cycles(2);
  rig_key(&rig, "l", false);
  rig_key(&rig, "a", false);
  cycles(2);
  shot("03-add-module");
  rig_key(&rig, "d", false);
  rig_key(&rig, "Return", false);
  for (int i = 0; i < 20; ++i) {
    rig_cycle(&rig);
  }
  float      res = -1.0f;
  int        x   = 0;
  int        y   = 0;
  const bool in  = rig_plugin_param(&rig, "ladder1", "res", &res);
  const bool at  = probe()->title_point(ui0(), "ladder1", &x, &y) && x > cx &&
                  x < cx + 120 && y > cy && y < cy + 30;
  char why[96];
  snprintf(why, sizeof(why), "in the patch: %d, title at %d,%d", in, x, y);
  report("ui_add_module_where_clicked", in && at, why);
}

/* Where module `m` of the plugin's patch sits (asked afresh). */
static bool
plugin_position(const char* const m, float* const x, float* const y)
{
  float ignored = 0.0f;
  rig_plugin_param(&rig, "out", "level", &ignored);
  const int i = ch_model_find(rig.seen.model, m);
  return i >= 0 && ch_model_module_position(rig.seen.model, (uint32_t)i, x, y);
}

/* A box dragged by its title: the plugin's patch has its new place. */
static void
test_move_box(void)
{
  float x0 = 0.0f;
  float y0 = 0.0f;
  plugin_position("out", &x0, &y0);
  int x = 0;
  int y = 0;
  probe()->title_point(ui0(), "out", &x, &y);
  const float zoom = probe()->seen(ui0()).zoom;
  carry(x, y, x - 60, y + 40, NULL);
  float       x1     = 0.0f;
  float       y1     = 0.0f;
  const bool  placed = plugin_position("out", &x1, &y1);
  const float want_x = roundf((x0 - 60.0f / zoom) / 5.0f) * 5.0f;
  const float want_y = roundf((y0 + 40.0f / zoom) / 5.0f) * 5.0f;
  char        why[128];
  snprintf(why, sizeof(why), "out at %g,%g, expected %g,%g", (double)x1,
           (double)y1, (double)want_x, (double)want_y);
  report("ui_move_box_sets_position", placed && x1 == want_x && y1 == want_y,
         why);
}

/* The plugin's patch as text (asked afresh), to compare bit for bit. */
char*
plugin_text(void)
{
  float ignored = 0.0f;
  rig_plugin_param(&rig, "out", "level", &ignored);
  return ch_patch_write(rig.seen.model, NULL);
}

void
run_commits(void)
{
  for (int i = 0; i < 20; ++i) {
    rig_cycle(&rig);
  }
}

/* Ctrl+Z brings the deleted module back, exactly; Ctrl+Shift+Z deletes
   it again. */
static void
test_undo_redo(char* const before, char* const after)
{
  rig_ctrl_key(&rig, "z", false);
  run_commits();
  char* const    undone = plugin_text();
  const uint32_t shown  = probe()->seen(ui0()).boxes;
  rig_ctrl_key(&rig, "z", true);
  run_commits();
  char* const redone = plugin_text();
  report("ui_undo_restores_patch_exactly",
         before && undone && !strcmp(before, undone) && shown == 6,
         "after Ctrl+Z the patch differs from before the delete");
  report("ui_redo_repeats_the_step",
         after && redone && !strcmp(after, redone) &&
           probe()->seen(ui0()).boxes == 5,
         "after Ctrl+Shift+Z the patch differs from after the delete");
  free(redone);
  free(undone);
}

/* Ctrl+D on a selected module: a copy with its values, committed. */
static void
test_duplicate(void)
{
  int            x     = 0;
  int            y     = 0;
  float          res   = -1.0f;
  float          cut   = -1.0f;
  const uint32_t boxes = probe()->seen(ui0()).boxes;
  rig_plugin_param(&rig, "filter", "res", &res);
  probe()->title_point(ui0(), "filter", &x, &y);
  click_at(x, y);
  rig_ctrl_key(&rig, "d", false);
  run_commits();
  float      copy_res = -2.0f;
  const bool made     = rig_plugin_param(&rig, "svf1", "res", &copy_res) &&
                    rig_plugin_param(&rig, "filter", "cutoff", &cut);
  float copy_cut = -2.0f;
  rig_plugin_param(&rig, "svf1", "cutoff", &copy_cut);
  report("ui_duplicate_module",
         made && copy_res == res && copy_cut == cut &&
           probe()->seen(ui0()).boxes == boxes + 1,
         "no svf1 with filter's values in the plugin's patch");
  shot("03-duplicated");
}

/* Shift+drag a band over two modules, Delete: both go in one commit;
   Ctrl+Z brings both back. */
static void
test_band_delete(void)
{
  int        ax    = 0;
  int        ay    = 0;
  int        bx    = 0;
  int        by    = 0;
  const bool shown = probe()->title_point(ui0(), "filter", &ax, &ay) &&
                     probe()->title_point(ui0(), "svf1", &bx, &by);
  const uint32_t boxes  = probe()->seen(ui0()).boxes;
  const int64_t  gen    = probe()->seen(ui0()).generation;
  char* const    before = plugin_text();
  rig_shift(&rig, true);
  /* From the empty canvas before filter's title to past both titles,
     wherever the copy was placed. */
  carry(ax - 60, ay - 25, (ax > bx ? ax : bx) + 3, (ay > by ? ay : by) + 3,
        NULL);
  rig_shift(&rig, false);
  shot("03-band");
  rig_key(&rig, "Delete", false);
  run_commits();
  float      ignored = 0.0f;
  const bool gone    = !rig_plugin_param(&rig, "filter", "res", &ignored) &&
                    !rig_plugin_param(&rig, "svf1", "res", &ignored) &&
                    rig.seen.have_patch;
  char why[128];
  snprintf(why, sizeof(why), "%u -> %u boxes, generation %lld -> %lld", boxes,
           probe()->seen(ui0()).boxes, (long long)gen,
           (long long)probe()->seen(ui0()).generation);
  report("ui_band_select_and_delete",
         shown && gone && probe()->seen(ui0()).boxes <= boxes - 2 &&
           probe()->seen(ui0()).generation == gen + 1,
         why);
  rig_ctrl_key(&rig, "z", false);
  run_commits();
  char* const after = plugin_text();
  report("ui_undo_brings_a_band_back",
         before && after && !strcmp(before, after),
         "after Ctrl+Z the patch differs from before the band's delete");
  free(after);
  free(before);
}

/* The copies just made are chosen: dragging one moves both by the same
   amount, and the plugin keeps their places without a commit. */
static void
test_choice_move(const int64_t gen)
{
  int   x = 0;
  int   y = 0;
  char  why[200];
  float ox0 = 0, oy0 = 0, sx0 = 0, sy0 = 0, ox1 = 0, oy1 = 0, sx1 = 0, sy1 = 0;
  plugin_position("osc1", &ox0, &oy0);
  plugin_position("svf2", &sx0, &sy0);
  const unsigned long sent = rig.ui_writes;
  probe()->title_point(ui0(), "osc1", &x, &y);
  carry(x, y, x + 40, y + 120, "03-choice-moving");
  const bool moved =
    plugin_position("osc1", &ox1, &oy1) && plugin_position("svf2", &sx1, &sy1);
  snprintf(why, sizeof(why),
           "osc1 %g,%g -> %g,%g; svf2 %g,%g -> %g,%g; generation %lld",
           (double)ox0, (double)oy0, (double)ox1, (double)oy1, (double)sx0,
           (double)sy0, (double)sx1, (double)sy1,
           (long long)probe()->seen(ui0()).generation);
  report("ui_drag_moves_the_whole_choice",
         moved && ox1 != ox0 && oy1 > oy0 && sx1 - sx0 == ox1 - ox0 &&
           sy1 - sy0 == oy1 - oy0 && rig.ui_writes > sent &&
           probe()->seen(ui0()).generation == gen + 1,
         why);
}

/* Click osc, Shift+click filter, Ctrl+D: copies of both with their
   values and the cable between them (not the cables from outside), in one
   commit; the copies are chosen, and dragging one moves both; one Ctrl+Z
   takes the whole copy away. */
static void
test_choice_duplicate_move(void)
{
  int x = 0;
  int y = 0;
  probe()->title_point(ui0(), "osc", &x, &y);
  click_at(x, y);
  probe()->title_point(ui0(), "filter", &x, &y);
  rig_shift(&rig, true);
  click_at(x, y);
  rig_shift(&rig, false);
  const bool both = probe()->chosen(ui0(), "osc") == 1 &&
                    probe()->chosen(ui0(), "filter") == 1 &&
                    probe()->chosen(ui0(), "amp") == 0;
  char* const   before = plugin_text();
  const int64_t gen    = probe()->seen(ui0()).generation;
  float         cut    = 0.0f;
  float         copy   = -1.0f;
  rig_ctrl_key(&rig, "d", false);
  run_commits();
  shot("03-choice-duplicated");
  rig_plugin_param(&rig, "filter", "cutoff", &cut);
  rig_plugin_param(&rig, "svf2", "cutoff", &copy);
  char why[200];
  snprintf(why, sizeof(why),
           "chosen before %d; generation %lld -> %lld; svf2:cutoff %g (filter "
           "%g); copies chosen %d %d",
           both, (long long)gen, (long long)probe()->seen(ui0()).generation,
           (double)copy, (double)cut, probe()->chosen(ui0(), "osc1"),
           probe()->chosen(ui0(), "svf2"));
  report("ui_duplicate_a_choice_with_its_cables",
         both && probe()->seen(ui0()).generation == gen + 1 && copy == cut &&
           plugin_link("osc1:out", "svf2:in") &&
           !plugin_link("voice:pitch", "osc1:pitch") &&
           !plugin_link("svf2:lp", "amp:in") &&
           probe()->chosen(ui0(), "osc1") == 1 &&
           probe()->chosen(ui0(), "svf2") == 1 &&
           probe()->chosen(ui0(), "osc") == 0,
         why);

  test_choice_move(gen);
  rig_ctrl_key(&rig, "z", false);
  run_commits();
  char* const after = plugin_text();
  report("ui_one_undo_takes_a_duplicated_choice_away",
         before && after && !strcmp(before, after) &&
           probe()->seen(ui0()).generation == gen + 2,
         "after one Ctrl+Z the patch differs from before the Ctrl+D");
  free(after);
  free(before);
}

/* A module selected by its title and deleted: gone with its cables. */
static void
test_delete_module(void)
{
  char* const before = plugin_text();
  int         x      = 0;
  int         y      = 0;
  const bool  shown  = probe()->title_point(ui0(), "env", &x, &y);
  click_at(x, y);
  rig_key(&rig, "Delete", false);
  for (int i = 0; i < 20; ++i) {
    rig_cycle(&rig);
  }
  float      ignored = 0.0f;
  const bool gone    = !rig_plugin_param(&rig, "env", "attack", &ignored) &&
                    rig.seen.have_patch &&
                    ch_model_find(rig.seen.model, "env") < 0;
  report("ui_select_module_and_delete",
         shown && gone && probe()->seen(ui0()).boxes == 5,
         "env is still in the plugin's patch or on screen");
  shot("09-module-deleted");
  char* const after = plugin_text();
  test_undo_redo(before, after);
  free(after);
  free(before);
}

/* Seconds per period of a frame: the mean spacing of its rising zero
   crossings (interpolated), or 0 with fewer than two. */
static double
frame_period(const float* const x, const uint32_t n, const float step)
{
  double first = 0.0;
  double last  = 0.0;
  int    k     = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (x[i - 1] <= 0.0f && x[i] > 0.0f) {
      last  = (double)(i - 1) + (double)(-x[i - 1] / (x[i] - x[i - 1]));
      first = k ? first : last;
      ++k;
    }
  }
  return k < 2 ? 0.0 : (last - first) / (k - 1) * (double)step;
}

/* Run until the scope has more than `after` frames; its frame count. */
static unsigned
wait_scope(const unsigned after)
{
  const float* pts  = NULL;
  uint32_t     n    = 0;
  float        step = 0.0f;
  const char*  m    = NULL;
  const char*  p    = NULL;
  unsigned     got  = 0;
  for (int i = 0; i < 400; ++i) {
    rig_cycle(&rig);
    got = probe()->scope(ui0(), &pts, &n, &step, &m, &p);
    if (got > after && n) {
      break;
    }
  }
  cycles(2);
  return got;
}

/* Click an output: the scope shows it, a sine of the note's period; click
   a cable: it shows the cable's source; click the panel: it closes. */
static void
test_probe_scope(void)
{
  const ChMsg set = ch_msg_set("osc", "shape", 0.0f); /* sine */
  rig_send(&rig, &set);
  rig_midi(&rig, 0x90, 69, 100); /* A4: voice 0 plays 440 Hz */
  cycles(4);
  int x = 0;
  int y = 0;
  probe()->port_point(ui0(), "osc", "out", true, &x, &y);
  click_at(x, y);
  const float*   pts    = NULL;
  uint32_t       n      = 0;
  float          step   = 0.0f;
  const char*    module = NULL;
  const char*    port   = NULL;
  const unsigned got    = wait_scope(1);
  probe()->scope(ui0(), &pts, &n, &step, &module, &port);
  const double period = frame_period(pts, n, step);
  shot("05-probe-scope");
  char why[160];
  snprintf(why, sizeof(why), "%u frames of %s:%s, %u points, period %.4f ms",
           got, module, port, n, period * 1e3);
  report("ui_probe_output_shows_sine_period",
         got >= 2 && !strcmp(module, "osc") && !strcmp(port, "out") &&
           n == CH_SCOPE_POINTS && fabs(period - 1.0 / 440.0) < 1e-5,
         why);
  /* The trace is drawn in the panel (its green, nowhere else). */
  const unsigned long trace = rig_count_colour(&rig, 0x73f28c, 30);
  snprintf(why, sizeof(why), "%lu trace pixels", trace);
  report("ui_probe_draws_the_trace", trace > 200, why);

  const bool found = probe()->cable_point(ui0(), "amp", "cv", &x, &y);
  click_at(x, y);
  wait_scope(got);
  probe()->scope(ui0(), &pts, &n, &step, &module, &port);
  snprintf(why, sizeof(why), "a click at %d,%d on amp:cv's cable shows %s:%s",
           x, y, module, port);
  report("ui_probe_a_cable_shows_its_source",
         found && !strcmp(module, "env") && !strcmp(port, "out") && n, why);

  const bool open = probe()->scope_point(ui0(), &x, &y);
  click_at(x, y);
  const unsigned closed_at =
    probe()->scope(ui0(), &pts, &n, &step, &module, &port);
  cycles(40);
  const unsigned after = probe()->scope(ui0(), &pts, &n, &step, &module, &port);
  report("ui_probe_closes_on_click",
         open && !module[0] && !probe()->scope_point(ui0(), &x, &y) &&
           after == closed_at,
         "the scope stayed open or kept receiving");
  rig_midi(&rig, 0x80, 69, 0);
  cycles(4);
}

/* Double-click a title, type, Return: the module has its new name, its
   links follow; Ctrl+Z gives the old name back. */
static void
test_rename(void)
{
  int        x     = 0;
  int        y     = 0;
  const bool shown = probe()->title_point(ui0(), "env", &x, &y);
  rig_move(&rig, x, y);
  rig_button(&rig, 1, true);
  rig_button(&rig, 1, false);
  cycles(1);
  rig_button(&rig, 1, true);
  rig_button(&rig, 1, false);
  cycles(2);
  rig_key(&rig, "BackSpace", false);
  rig_key(&rig, "BackSpace", false);
  rig_key(&rig, "BackSpace", false);
  rig_key(&rig, "a", false);
  rig_key(&rig, "m", false);
  rig_key(&rig, "p", false);
  rig_key(&rig, "underscore", true);
  rig_key(&rig, "e", false);
  rig_key(&rig, "g", false);
  cycles(2);
  shot("06-renaming");
  rig_key(&rig, "Return", false);
  run_commits();
  cycles(4);
  report("ui_rename_by_typing_over_the_title",
         shown && plugin_link("amp_eg:out", "amp:cv") &&
           plugin_link("voice:gate", "amp_eg:gate") &&
           !plugin_link("env:out", "amp:cv"),
         "amp_eg:out -> amp:cv missing after renaming env");
  shot("06-renamed");
  rig_ctrl_key(&rig, "z", false);
  run_commits();
  report("ui_undo_a_rename", plugin_link("env:out", "amp:cv"),
         "env:out -> amp:cv missing after Ctrl+Z");
}

/* A note played: the meter rises; released, it falls back to nothing
   and the UI stops drawing. */
static void
test_meter(void)
{
  rig_midi(&rig, 0x90, 60, 100);
  float peak = 0.0f;
  for (int i = 0; i < 200 && peak < 0.05f; ++i) {
    rig_cycle(&rig);
    peak = probe()->seen(ui0()).level;
  }
  cycles(2);
  shot("04-meter");
  char why[64];
  snprintf(why, sizeof(why), "meter at %g", (double)peak);
  report("ui_meter_follows_output", peak >= 0.05f && peak <= 1.0f, why);
  int sounding = 0;
  for (int i = 0; i < 400 && sounding < 3; ++i) {
    rig_cycle(&rig);
    sounding = probe()->activity(ui0(), "osc");
  }
  cycles(2);
  snprintf(why, sizeof(why), "osc %d, env %d, filter %d", sounding,
           probe()->activity(ui0(), "env"), probe()->activity(ui0(), "filter"));
  report("ui_activity_dots_follow_the_note",
         sounding == 3 && probe()->activity(ui0(), "filter") > 0, why);
  /* The CPU shares come after half a second of answers. */
  for (int i = 0; i < 20000 && probe()->cpu(ui0(), "filter") < 0; ++i) {
    rig_cycle(&rig);
  }
  cycles(2);
  shot("04-activity");
  const char* const lit[] = { "osc", "env", "filter", "amp" };
  int               sum   = 0;
  int               least = 100;
  for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); ++i) {
    const int pct = probe()->cpu(ui0(), lit[i]);
    least         = pct < least ? pct : least;
    sum += pct > 0 ? pct : 0;
  }
  snprintf(why, sizeof(why), "least shown %d%%, all %d%%", least, sum);
  report("ui_cpu_shares_show_on_sounding_boxes",
         least >= 0 && sum > 0 && sum <= 102, why);
  rig_midi(&rig, 0x80, 60, 0);
  for (int i = 0; i < 4000 && (probe()->seen(ui0()).level > 0.0f ||
                               probe()->activity(ui0(), "osc") > 0 ||
                               probe()->activity(ui0(), "env") > 0);
       ++i) {
    rig_cycle(&rig);
  }
  const unsigned long before = probe()->seen(ui0()).redraws;
  cycles(30);
  report("ui_meter_rests_in_silence",
         probe()->seen(ui0()).level == 0.0f &&
           probe()->activity(ui0(), "osc") == 0 &&
           probe()->cpu(ui0(), "osc") < 0 &&
           probe()->seen(ui0()).redraws == before,
         "the meter kept moving after the note ended");
}

static void
test_program(void)
{
  rig_set_control(&rig, 5, 2.0f); /* the host changes program: Lead */
  ChModel* const lead = bank_patch("02-lead");
  bool           got  = false;
  for (int n = 0; n < 400 && !got; ++n) {
    rig_cycle(&rig);
    got = shows(0, lead);
  }
  cycles(2);
  report("ui_follows_host_program_change", got,
         "the UI does not show program 2");
  ch_model_free(lead);
  shot("05-program-lead");
}

static void
test_error(void)
{
  char path[1024];
  snprintf(path, sizeof(path), "%s/broken.ttl", out_dir);
  FILE* const f = fopen(path, "w");
  if (f) {
    fputs("@prefix ch: <urn:chronus:> .\n@prefix : <urn:chronus:module#> .\n"
          "\n:osc ch:kind \"osc\" .\n:t ch:kind \"theremin\" .\n",
          f);
    fclose(f);
  }
  ChMsg put         = ch_msg_init(CH_MSG_PUT);
  put.property      = rig.uris.ch_patchFile;
  put.file          = path;
  put.value_is_path = true;
  rig_send(&rig, &put);
  bool shown = false;
  for (int i = 0; i < 400 && !shown; ++i) {
    rig_cycle(&rig);
    shown = strstr(probe()->seen(ui0()).error, "theremin") != NULL;
  }
  cycles(2);
  char why[600];
  snprintf(why, sizeof(why), "error shown: '%s'", probe()->seen(ui0()).error);
  report("ui_shows_plugin_error_with_line",
         shown && strstr(probe()->seen(ui0()).error, "line 5"), why);
  shot("06-error");
  unlink(path);
}

/* A patch far larger than one host buffer message: it comes in pieces. */
static void
test_big_patch(void)
{
  enum { N = 300 }; /* N - 1 modules and the output a commit needs */
  static char text[N * 64 + 256];
  size_t      len = (size_t)snprintf(text, sizeof(text),
                                     "@prefix ch: <urn:chronus:> .\n"
                                          "@prefix : <urn:chronus:module#> .\n");
  for (int i = 0; i < N - 1; ++i) {
    len +=
      (size_t)snprintf(text + len, sizeof(text) - len,
                       ":m%03d ch:kind \"%s\" .\n", i, i % 2 ? "osc" : "adsr");
  }
  len += (size_t)snprintf(text + len, sizeof(text) - len,
                          ":out ch:kind \"output\" .\n");
  rig_load_commit(&rig, text);
  rig.pieces = 0;
  bool shown = false;
  for (int i = 0; i < 600 && !shown; ++i) {
    rig_cycle(&rig);
    shown = probe()->seen(ui0()).boxes == N;
  }
  cycles(2);
  char why[600];
  snprintf(why, sizeof(why), "%u boxes from %u pieces; error: %s",
           probe()->seen(ui0()).boxes, rig.pieces, probe()->seen(ui0()).error);
  report("ui_shows_big_patch_from_pieces", shown && rig.pieces > 4, why);
  shot("07-big-patch");
  rig_set_control(&rig, 5, 0.0f); /* back to Init */
  cycles(20);
}

/* Resident memory in KiB. */
static long
rss_kib(void)
{
  FILE* const f     = fopen("/proc/self/statm", "r");
  long        pages = 0;
  long        res   = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) {
      res = 0;
    }
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A change made in one UI shows in the other (the plugin's echo). */
static void
follow_other_ui(void)
{
  float before = 0.0f;
  float other  = -1.0f;
  float mine   = 0.0f;
  rig.ui[0].probe->param_value(rig.ui[0].handle, "filter", "res", &before);
  drag("filter", "res", 30, false);
  rig.ui[1].probe->param_value(rig.ui[1].handle, "filter", "res", &other);
  rig.ui[0].probe->param_value(rig.ui[0].handle, "filter", "res", &mine);
  char why[128];
  snprintf(why, sizeof(why), "res %g: this UI %g, the other %g (%u echoes)",
           (double)before, (double)mine, (double)other, rig.echoes);
  report("ui_follows_changes_from_another_ui",
         other != before && other == mine && rig.echoes > 0, why);
}

static void
test_two_and_leaks(void)
{
  const bool     second = rig_ui_open(&rig, 1) && wait_patch(1, 0);
  ChModel* const lead   = bank_patch("02-lead");
  report("ui_two_instances", second && shows(1, lead) && shows(0, lead),
         "a second UI does not show the patch");
  ch_model_free(lead);

  follow_other_ui();
  rig_ui_close(&rig, 1);

  long before = 0;
  for (int i = 0; i < 25; ++i) {
    if (i == 5) {
      before = rss_kib();
    }
    rig_ui_open(&rig, 1);
    wait_patch(1, 0);
    rig_ui_close(&rig, 1);
  }
  const long grown = rss_kib() - before;
  char       why[128];
  snprintf(why, sizeof(why), "resident memory grew by %ld KiB over 20 opens",
           grown);
  fprintf(stderr, "ui-host: %s\n", why);
  report("ui_open_close_leaks_nothing", grown < 512, why);
  cycles(4);
  report("ui_first_instance_still_live", probe()->seen(ui0()).boxes > 0,
         "closing another UI broke this one");
}

/* Resized by the host: the UI takes the new size and fits again on 'f'. */
static void
test_resize(void)
{
  rig_resize(&rig, 720, 450);
  cycles(4);
  rig_key(&rig, "f", false);
  cycles(4);
  shot("08-resized");
  int        x = 0;
  int        y = 0;
  const bool inside =
    probe()->param_point(ui0(), "out", "level", &x, &y) && x < 720 && y < 450;
  report("ui_resizes_with_host", inside && probe()->seen(ui0()).zoom < 0.75f,
         "after a resize to 720x450 the patch is not fitted inside");
  rig_resize(&rig, 960, 600);
  cycles(4);
  rig_key(&rig, "f", false); /* as it was: later tests aim by its view */
  cycles(4);
}

/* Load `model` without its positions (ch:Load, ch:Commit): the UI lays
   it out by itself. */
static void
load_unplaced(const ChModel* const model)
{
  ChModel* const bare = ch_model_new();
  for (uint32_t m = 0; m < ch_model_n_modules(model); ++m) {
    ch_model_create(bare, ch_model_module_name(model, m),
                    ch_model_module_kind(model, m)->name, NULL);
  }
  for (uint32_t l = 0; l < ch_model_n_links(model); ++l) {
    const ChLink* const link = ch_model_link(model, l);
    char                from[128];
    char                to[128];
    snprintf(from, sizeof(from), "%s:%s",
             ch_model_module_name(model, link->from_module),
             ch_model_module_kind(model, link->from_module)
               ->outputs[link->from_port]
               .name);
    snprintf(
      to, sizeof(to), "%s:%s", ch_model_module_name(model, link->to_module),
      ch_model_module_kind(model, link->to_module)->inputs[link->to_port].name);
    ch_model_connect(bare, from, to, NULL);
  }
  char* const text = ch_patch_write(bare, NULL);
  rig_load_commit(&rig, text);
  cycles(20);
  free(text);
  ch_model_free(bare);
}

/* Docs: every program of the bank, at `w` x `h`, saved as NN-name.png
   (with `bare`, laid out automatically: NN-name-auto.png). */
static void
bank_shots(const int w, const int h, const bool bare)
{
  rig_ui_open(&rig, 0);
  rig_resize(&rig, w, h);
  ChClient bank;
  ch_client_init(&bank);
  ch_client_read_bank(&bank, CH_SOURCE_DIR "/presets/bank");
  for (uint32_t i = 0; i < bank.n_bank; ++i) {
    const char* const name = bank.bank[i].file;
    rig_set_control(&rig, 5, (float)bank.bank[i].number);
    ChModel* const want = bank_patch(name);
    for (int n = 0; n < 400 && !shows(0, want); ++n) {
      rig_cycle(&rig);
    }
    report(name, shows(0, want), "not shown");
    char file[96];
    snprintf(file, sizeof(file), "%s%s", name, bare ? "-auto" : "");
    if (bare) {
      load_unplaced(want);
    }
    ch_model_free(want);
    rig_key(&rig, "f", false);
    cycles(4);
    shot(file);
  }
  ch_client_free(&bank);
}

int
main(int argc, char** argv)
{
  if (argc < 2 || (argv[1][0] == '-' && argc < 3)) {
    fprintf(stderr, "usage: ui-host OUTDIR [SCALE]\n"
                    "       ui-host --build-demo OUTDIR\n"
                    "       ui-host --bank-shots OUTDIR [WIDTH HEIGHT]\n");
    return 2;
  }
  const bool shots         = !strcmp(argv[1], "--bank-shots");
  const bool demo          = !strcmp(argv[1], "--build-demo");
  out_dir                  = argv[shots || demo ? 2 : 1];
  rig.scale                = !shots && argc > 2 ? strtof(argv[2], NULL) : 0.0f;
  const char* const bundle = getenv("CH_BUNDLE_DIR");
  if (!rig_open(&rig, bundle ? bundle : CH_BUNDLE_DIR)) {
    report("ui_host_setup", false, "plugin, UI or display missing");
    return 1;
  }
  cycles(8); /* the plugin loads program 0 */
  if (shots) {
    bank_shots(argc > 4 ? atoi(argv[3]) : 960, argc > 4 ? atoi(argv[4]) : 600,
               argc > 5 && !strcmp(argv[5], "auto"));
    rig_close(&rig);
    return failures ? 1 : 0;
  }
  if (demo) {
    const bool opened = rig_ui_open(&rig, 0) && wait_patch(0, 0);
    report("ui_demo_opens", opened, "the UI did not open or show a patch");
    if (opened) {
      test_build_demo();
    }
    rig_close(&rig);
    return failures ? 1 : 0;
  }
  test_open();
  if (rig.scale <= 0) {
    test_idle();
    test_drag();
    test_reset_and_scroll();
    test_keyboard();
    test_lists();
    test_patching();
    test_staged();
    test_staged_value();
    test_add_module();
    test_move_box();
    test_duplicate();
    test_band_delete();
    test_choice_duplicate_move();
    test_probe_scope();
    test_rename();
    test_meter();
    test_program();
    test_error();
    test_resize();
    test_two_and_leaks();
    test_big_patch();
    test_delete_module();
  }
  rig_close(&rig);
  return failures ? 1 : 0;
}
