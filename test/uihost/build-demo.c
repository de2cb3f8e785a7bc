/* The graph editor's headline test: the demo patch (tools/demo/demo.ttl,
   the one docs/ui.md walks a new user through) built by hand in the UI
   from an empty picture, with clicks, drags and typing only, then checked
   against the file: the same modules, links and values, and the same
   sound for a played note. */
#include "steps.h"

#include "../../src/patch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where each module goes (window pixels of its title's top left, in a
   1280 x 800 window at zoom 100 %), in the order they are added. */
typedef struct {
  const char* kind;
  const char* name;
  int         x;
  int         y;
} Part;

static const Part parts[] = {
  { "output", "out", 1080, 70 }, { "voice", "voice", 20, 70 },
  { "osc", "saw", 230, 70 },     { "osc", "sub", 230, 300 },
  { "adsr", "fenv", 230, 530 },  { "mixer", "mix", 450, 70 },
  { "vca", "famt", 450, 530 },   { "svf", "filter", 660, 70 },
  { "adsr", "env", 660, 330 },   { "vca", "amp", 870, 70 },
};

static const char* const links[][2] = {
  { "voice:pitch", "saw:pitch" },  { "voice:pitch", "sub:pitch" },
  { "voice:gate", "fenv:gate" },   { "voice:trig", "fenv:trig" },
  { "voice:gate", "env:gate" },    { "voice:trig", "env:trig" },
  { "saw:out", "mix:in1" },        { "sub:out", "mix:in2" },
  { "mix:out", "filter:in" },      { "fenv:out", "famt:in" },
  { "famt:out", "filter:cutoff" }, { "filter:lp", "amp:in" },
  { "env:out", "amp:cv" },         { "amp:out", "out:mono" },
};

/* Values as a user types them into a parameter's field. */
static const char* const values[][3] = {
  { "saw", "fine", "6" },        { "saw", "level", "0.6" },
  { "sub", "shape", "saw" },     { "sub", "pitch", "-1" },
  { "sub", "fine", "-6 ct" },    { "sub", "level", "0.5" },
  { "mix", "level", "0.8" },     { "fenv", "attack", "3 ms" },
  { "fenv", "decay", "350 ms" }, { "fenv", "sustain", "0.15" },
  { "fenv", "release", "0.3" },  { "famt", "gain", "2" },
  { "filter", "cutoff", "500" }, { "filter", "res", "0.35" },
  { "env", "attack", "4ms" },    { "env", "decay", "0.4 s" },
  { "env", "sustain", "0.6" },   { "env", "release", "350 ms" },
  { "out", "level", "0.5" },
};

/* Type `text` as keys. */
static void
type(const char* const text)
{
  for (const char* c = text; *c; ++c) {
    char sym[2] = { *c, '\0' };
    rig_key(&rig,
            *c == ' '   ? "space"
            : *c == '-' ? "minus"
            : *c == '.' ? "period"
                        : sym,
            false);
  }
  cycles(2);
}

static void
double_click_at(const int x, const int y)
{
  rig_move(&rig, x, y);
  for (int i = 0; i < 2; ++i) {
    rig_button(&rig, 1, true);
    rig_button(&rig, 1, false);
    cycles(1);
  }
  cycles(1);
}

/* Double-click the empty canvas, type the kind, Return; then rename the
   new module (kind + 1) by double-clicking its title and typing. */
static bool
add(const Part* const part)
{
  double_click_at(part->x, part->y);
  type(part->kind);
  rig_key(&rig, "Return", false);
  run_commits();
  char made[64];
  snprintf(made, sizeof(made), "%s1", part->kind);
  int x = 0;
  int y = 0;
  if (!probe()->title_point(ui0(), made, &x, &y)) {
    fprintf(stderr, "ui-host: no %s after adding a %s\n", made, part->kind);
    return false;
  }
  double_click_at(x, y);
  for (size_t i = 0; i < strlen(made); ++i) {
    rig_key(&rig, "BackSpace", false);
  }
  type(part->name);
  rig_key(&rig, "Return", false);
  run_commits();
  return probe()->title_point(ui0(), part->name, &x, &y);
}

/* Right-click a parameter, type its value, Return. */
static bool
set_value(const char* const module, const char* const param, const char* text)
{
  int x = 0;
  int y = 0;
  if (!probe()->param_point(ui0(), module, param, &x, &y)) {
    fprintf(stderr, "ui-host: %s:%s not on screen\n", module, param);
    return false;
  }
  rig_move(&rig, x, y);
  rig_button(&rig, 3, true);
  rig_button(&rig, 3, false);
  cycles(2);
  type(text);
  rig_key(&rig, "Return", false);
  cycles(4);
  return true;
}

/* Differences between the plugin's patch and the demo file: modules
   (name, kind, every value) and links; positions are the user's own. */
static int
differences(const ChModel* const got,
            const ChModel* const want,
            char* const          why,
            const size_t         size)
{
  int bad = ch_model_n_modules(got) != ch_model_n_modules(want) ||
            ch_model_n_links(got) != ch_model_n_links(want) ||
            ch_model_polyphony(got) != ch_model_polyphony(want);
  snprintf(why, size, "%u modules, %u links, %u voices (want %u, %u, %u)",
           ch_model_n_modules(got), ch_model_n_links(got),
           ch_model_polyphony(got), ch_model_n_modules(want),
           ch_model_n_links(want), ch_model_polyphony(want));
  for (uint32_t m = 0; m < ch_model_n_modules(want); ++m) {
    const char* const   name = ch_model_module_name(want, m);
    const int           g    = ch_model_find(got, name);
    const ChKind* const kind = ch_model_module_kind(want, m);
    if (g < 0 || ch_model_module_kind(got, (uint32_t)g) != kind) {
      snprintf(why + strlen(why), size - strlen(why), "; no %s %s", kind->name,
               name);
      ++bad;
      continue;
    }
    const float* const a = ch_model_module_params(got, (uint32_t)g);
    const float* const b = ch_model_module_params(want, m);
    for (uint32_t p = 0; p < kind->n_params; ++p) {
      if (memcmp(&a[p], &b[p], sizeof(float))) {
        snprintf(why + strlen(why), size - strlen(why), "; %s:%s %g, not %g",
                 name, kind->params[p].name, (double)a[p], (double)b[p]);
        ++bad;
      }
    }
  }
  for (uint32_t l = 0; l < ch_model_n_links(want); ++l) {
    const ChLink* const w = ch_model_link(want, l);
    const int           f =
      ch_model_find(got, ch_model_module_name(want, w->from_module));
    const int t = ch_model_find(got, ch_model_module_name(want, w->to_module));
    bool      found = false;
    for (uint32_t k = 0; k < ch_model_n_links(got) && f >= 0 && t >= 0; ++k) {
      const ChLink* const h = ch_model_link(got, k);
      found                 = found ||
              (h->from_module == (uint32_t)f && h->to_module == (uint32_t)t &&
               h->from_port == w->from_port && h->to_port == w->to_port);
    }
    if (!found) {
      snprintf(why + strlen(why), size - strlen(why), "; link %s -> %s missing",
               ch_model_module_name(want, w->from_module),
               ch_model_module_name(want, w->to_module));
      ++bad;
    }
  }
  return bad;
}

#define NOTE_CYCLES 240 /* 1.28 s of a held note */

/* A3 held for NOTE_CYCLES cycles into `buf` (left channel), then released
   until the output is silent again. */
static void
play(float* const buf)
{
  rig_midi(&rig, 0x90, 57, 100);
  for (int c = 0; c < NOTE_CYCLES; ++c) {
    rig_cycle(&rig);
    memcpy(buf + (size_t)c * RIG_BLOCK, rig.out[0], sizeof(rig.out[0]));
  }
  rig_midi(&rig, 0x80, 57, 0);
  for (int c = 0; c < 2000; ++c) {
    rig_cycle(&rig);
    float peak = 0.0f;
    for (uint32_t i = 0; i < RIG_BLOCK; ++i) {
      peak = fmaxf(peak, fabsf(rig.out[0][i]));
    }
    if (peak < 1e-5f && c > 40) {
      break;
    }
  }
}

static double
rms_db(const float* const x, const size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += (double)x[i] * (double)x[i];
  }
  return 10.0 * log10(sum / (double)n + 1e-30);
}

/* The period in samples: the lag (2..20 ms at 48 kHz) where the
   normalised autocorrelation of the note's second half peaks. */
static int
period(const float* const x, const size_t n)
{
  const float* const s    = x + n / 2u;
  const size_t       len  = n / 2u - 960u;
  int                best = 0;
  double             top  = -2.0;
  for (int lag = 96; lag <= 960; ++lag) {
    double xy = 0.0, xx = 0.0, yy = 0.0;
    for (size_t i = 0; i < len; ++i) {
      xy += (double)s[i] * (double)s[i + (size_t)lag];
      xx += (double)s[i] * (double)s[i];
      yy += (double)s[i + (size_t)lag] * (double)s[i + (size_t)lag];
    }
    const double r = xy / sqrt(xx * yy + 1e-30);
    if (r > top) {
      top  = r;
      best = lag;
    }
  }
  return best;
}

static char*
read_text(const char* const path)
{
  FILE* const f = fopen(path, "rb");
  if (!f) {
    return NULL;
  }
  char* const text = calloc(1u << 16, 1);
  if (text && fread(text, 1, (1u << 16) - 1u, f) == 0) {
    text[0] = '\0';
  }
  fclose(f);
  return text;
}

/* The note through the built patch, then through the demo file loaded
   into the same plugin: the same pitch and level. */
static void
check_sound(void)
{
  enum { N = NOTE_CYCLES * RIG_BLOCK };
  static float built[N];
  static float file[N];
  play(built);
  char* const text = read_text(CH_SOURCE_DIR "/tools/demo/demo.ttl");
  rig_load_commit(&rig, text);
  cycles(400); /* the commit and its crossfade */
  play(file);
  free(text);
  /* The saw (6 cents sharp) beats with the sub's second harmonic (6 cents
     flat) 1.5 times a second, in a phase that depends on how long the
     oscillators ran before the note: the level over one whole beat, once
     both envelopes hold, does not. */
  const double beat =
    220.0 * (pow(2.0, 6.0 / 1200.0) - pow(2.0, -6.0 / 1200.0));
  const size_t from     = 24000u; /* 0.5 s: attack and decay are over */
  const size_t len      = (size_t)lround(48000.0 / beat);
  const double db_built = rms_db(built + from, len);
  const double db_file  = rms_db(file + from, len);
  const int    p_built  = period(built, N);
  const int    p_file   = period(file, N);
  /* A3 is 220 Hz; the sub, an octave down and 6 cents flat, sets the
     period: 48000 / (110 * 2^(-6/1200)) = 438 samples. */
  const double want = 48000.0 / (110.0 * pow(2.0, -6.0 / 1200.0));
  char         why[200];
  snprintf(why, sizeof(why),
           "built: %.2f dBFS RMS, period %d samples; demo file: %.2f dBFS, "
           "%d samples; expected %.1f samples",
           db_built, p_built, db_file, p_file, want);
  fprintf(stderr, "ui-host: %s\n", why);
  report("ui_built_demo_sounds_like_the_demo",
         db_built > -40.0 && fabs(db_built - db_file) < 0.2 &&
           abs(p_built - p_file) <= 1 && fabs(p_built - want) < want * 0.02,
         why);
}

/* Staged mode, a band over everything, Delete: the picture is empty and
   nothing is heard yet; the output comes first, then leaving staged mode
   commits the patch of one module; every later gesture is heard at
   once. */
static bool
start_empty(void)
{
  /* The UI takes the keyboard on a click: wait until X says it has it. */
  Window focus  = 0;
  int    revert = 0;
  for (int i = 0; i < 50 && focus != rig.ui[0].widget; ++i) {
    if (i % 10 == 0) {
      click_at(6, 54 + 20 * (i / 10)); /* never a double-click */
    }
    XGetInputFocus(rig.dpy, &focus, &revert);
    cycles(1);
  }
  if (focus != rig.ui[0].widget) {
    fprintf(stderr, "ui-host: the UI did not take the keyboard focus\n");
  }
  rig_key(&rig, "s", false);
  cycles(2);
  rig_shift(&rig, true);
  carry(6, 54, 1274, 794, NULL);
  rig_shift(&rig, false);
  rig_key(&rig, "Delete", false);
  cycles(4);
  rig_key(&rig, "0", false); /* zoom 100 % */
  cycles(4);
  shot("demo-00-empty");
  const bool empty =
    probe()->seen(ui0()).boxes == 0 && plugin_link("osc:out", "filter:in");
  const bool out = add(&parts[0]);
  rig_key(&rig, "s", false); /* staged off: commits */
  run_commits();
  float ignored = 0.0f;
  rig_plugin_param(&rig, "out", "level", &ignored);
  char why[160];
  snprintf(why, sizeof(why),
           "empty picture %d, output added %d, plugin has %u modules", empty,
           out, ch_model_n_modules(rig.seen.model));
  report("ui_demo_starts_from_an_empty_patch",
         empty && out && ch_model_n_modules(rig.seen.model) == 1, why);
  return empty && out;
}

void
test_build_demo(void)
{
  rig_resize(&rig, 1280, 800);
  cycles(4);
  rig_key(&rig, "f", false);
  cycles(4);
  if (!start_empty()) {
    return;
  }
  bool ok = true;
  for (size_t i = 1; i < sizeof(parts) / sizeof(parts[0]); ++i) {
    ok = add(&parts[i]) && ok;
  }
  shot("demo-01-modules");
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); ++i) {
    ok = plug(links[i][0], links[i][1], NULL) && ok;
  }
  shot("demo-02-cabled");
  int x = 0;
  int y = 0;
  probe()->param_point(ui0(), "saw", "shape", &x, &y);
  click_at(x, y); /* a list: pick "saw" with the mouse */
  if (probe()->menu_point(ui0(), 1, &x, &y)) {
    click_at(x, y);
  }
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); ++i) {
    ok = set_value(values[i][0], values[i][1], values[i][2]) && ok;
  }
  /* The demo plays one note at a time: the header's voices button (the
     empty patch kept the 8 of the program it replaced). */
  click_at(698, 15);
  shot("demo-03-voices");
  if (probe()->menu_point(ui0(), 0, &x, &y)) {
    click_at(x, y);
  }
  run_commits();
  shot("demo-04-built");
  float ignored = 0.0f;
  rig_plugin_param(&rig, "out", "level", &ignored);
  ChModel* const want = ch_model_new();
  ChError        err;
  ch_patch_read_file(want, CH_SOURCE_DIR "/tools/demo/demo.ttl", &err);
  char      why[2048];
  const int bad = differences(rig.seen.model, want, why, sizeof(why));
  report("ui_demo_built_by_hand_is_the_demo_patch", ok && !bad, why);
  ch_model_free(want);
  check_sound();
}
