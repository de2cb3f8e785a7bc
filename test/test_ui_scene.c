/* Tests of the UI's logic without X: layout, hit testing, value mapping,
   the view, and patch <-> picture through the client's reassembly. */
#include "../src/model.h"
#include "../src/patch.h"
#include "../src/registry.h"
#include "../ui/client.h"
#include "../ui/scene.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRE                                                                    \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"

static const char demo[] =
  PRE ":voice ch:kind \"voice\" .\n:osc ch:kind \"osc\" .\n"
      ":env ch:kind \"adsr\" .\n:filter ch:kind \"svf\" .\n"
      ":amp ch:kind \"vca\" .\n:out ch:kind \"output\" .\n"
      "[] ch:from \"voice:pitch\" ; ch:to \"osc:pitch\" .\n"
      "[] ch:from \"voice:gate\" ; ch:to \"env:gate\" .\n"
      "[] ch:from \"osc:out\" ; ch:to \"filter:in\" .\n"
      "[] ch:from \"filter:lp\" ; ch:to \"amp:in\" .\n"
      "[] ch:from \"env:out\" ; ch:to \"amp:cv\" .\n"
      "[] ch:from \"amp:out\" ; ch:to \"out:mono\" .\n";

static ChModel*
read_model(const char* const text)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  const ChStatus st = ch_patch_read(model, text, strlen(text), &err);
  CHECK_MSG(!st, "%s", err.msg);
  return model;
}

/* The scene of the patch `text`, built (checked) in `scene`; the model it
   shows, for free_scene(). */
static ChModel*
build_scene(ChScene* const scene, const char* const text)
{
  ChModel* const model = read_model(text);
  memset(scene, 0, sizeof(*scene));
  CHECK(ch_scene_build(scene, model));
  return model;
}

static void
free_scene(ChScene* const scene, ChModel* const model)
{
  ch_scene_clear(scene);
  ch_model_free(model);
}

/* Parameter `param` of the module kind `kind`. */
static const ChParamInfo*
param_of(const char* const kind, const char* const param)
{
  const ChKind* const k = ch_registry_find(kind);
  return &k->params[ch_kind_find_param(k, param)];
}

static bool
overlap(const ChRect a, const ChRect b)
{
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h &&
         b.y < a.y + a.h;
}

/* Every box clear of the others, and every link that orders the schedule
   going left to right. */
static void
check_layout_sane(const ChScene* const scene)
{
  for (uint32_t i = 0; i < scene->n_boxes; ++i) {
    for (uint32_t j = i + 1u; j < scene->n_boxes; ++j) {
      CHECK_MSG(!overlap(scene->boxes[i].rect, scene->boxes[j].rect),
                "%s overlaps %s", scene->boxes[i].name, scene->boxes[j].name);
    }
  }
  for (uint32_t l = 0; l < scene->n_cables; ++l) {
    const ChCable* const c  = &scene->cables[l];
    const ChBox* const   to = &scene->boxes[c->to_box];
    if (!to->kind->capture) {
      CHECK_MSG(scene->boxes[c->from_box].rect.x < to->rect.x,
                "%s is not left of %s", scene->boxes[c->from_box].name,
                to->name);
    }
  }
}

static void
test_layout_demo(void)
{
  ChScene        scene;
  ChModel* const model = build_scene(&scene, demo);
  CHECK(scene.n_boxes == 6 && scene.n_cables == 6);
  check_layout_sane(&scene);
  CHECK(ch_scene_crossings(&scene) == 0);
  /* voice, then osc and env, then filter, amp, out: four columns. */
  const float col = CH_BOX_W + CH_COL_GAP;
  CHECK_NEAR(scene.boxes[ch_scene_find(&scene, "voice")].rect.x, 0, 0);
  CHECK_NEAR(scene.boxes[ch_scene_find(&scene, "out")].rect.x, 4 * col, 0);
  /* Per-voice marking: voice to amp are per voice, the output is not. */
  CHECK(scene.boxes[ch_scene_find(&scene, "amp")].voiced);
  CHECK(!scene.boxes[ch_scene_find(&scene, "out")].voiced);
  free_scene(&scene, model);
}

/* The factory bank without positions: laid out sanely, few crossings. */
static void
test_layout_bank(void)
{
  const char* const names[] = { "01-bass", "02-lead", "04-pad", "06-drone",
                                "07-perc" };
  for (size_t i = 0; i < CH_COUNT(names); ++i) {
    char path[512];
    snprintf(path, sizeof(path), "%s/presets/bank/%s.ttl", CH_SOURCE_DIR,
             names[i]);
    ChModel* const model = ch_model_new();
    ChError        err;
    CHECK_MSG(!ch_patch_read_file(model, path, &err), "%s", err.msg);
    ChScene scene;
    memset(&scene, 0, sizeof(scene));
    CHECK(ch_scene_build(&scene, model));
    /* Forget hand-placed positions: this tests the automatic layout. */
    for (uint32_t b = 0; b < scene.n_boxes; ++b) {
      scene.boxes[b].placed = false;
    }
    ch_scene_layout(&scene);
    check_layout_sane(&scene);
    const uint32_t crossings = ch_scene_crossings(&scene);
    CHECK_MSG(crossings <= scene.n_cables * 2u / 3u, "%s: %u crossings of %u",
              names[i], crossings, scene.n_cables);
    fprintf(stderr, "  %s: %u boxes, %u cables, %u crossings\n", names[i],
            scene.n_boxes, scene.n_cables, crossings);
    ch_scene_clear(&scene);
    ch_model_free(model);
  }
}

static void
test_placed_kept(void)
{
  ChScene        scene;
  ChModel* const model = build_scene(
    &scene,
    PRE ":a ch:kind \"osc\" ; ch:x 500 ; ch:y -40 .\n:b ch:kind \"output\" .\n"
        "[] ch:from \"a:out\" ; ch:to \"b:mono\" .\n");
  CHECK(scene.boxes[0].placed && !scene.boxes[1].placed);
  CHECK_NEAR(scene.boxes[0].rect.x, 500, 0);
  CHECK_NEAR(scene.boxes[0].rect.y, -40, 0);
  /* The unplaced one goes below the placed one. */
  CHECK(scene.boxes[1].rect.y >= -40 + scene.boxes[0].rect.h);
  CHECK(!overlap(scene.boxes[0].rect, scene.boxes[1].rect));
  free_scene(&scene, model);
}

static void
test_hit(void)
{
  ChScene            scene;
  ChModel* const     model = build_scene(&scene, demo);
  const int          f     = ch_scene_find(&scene, "filter");
  const ChBox* const box   = &scene.boxes[f];
  float              x     = 0.0f;
  float              y     = 0.0f;

  ch_box_port_pos(box, false, 0, &x, &y); /* filter:in */
  ChHit hit = ch_scene_hit(&scene, x - 4.0f, y + 3.0f);
  CHECK(hit.kind == CH_HIT_INPUT && hit.box == f && hit.index == 0);
  ch_box_port_pos(box, true, 2, &x, &y); /* filter:hp */
  hit = ch_scene_hit(&scene, x + 5.0f, y - 2.0f);
  CHECK(hit.kind == CH_HIT_OUTPUT && hit.box == f && hit.index == 2);

  const ChRect r = ch_box_param_rect(box, 1); /* res */
  hit            = ch_scene_hit(&scene, r.x + r.w * 0.5f, r.y + r.h * 0.5f);
  CHECK(hit.kind == CH_HIT_PARAM && hit.box == f && hit.index == 1);
  hit = ch_scene_hit(&scene, box->rect.x + 40.0f, box->rect.y + 8.0f);
  CHECK(hit.kind == CH_HIT_BOX && hit.box == f);
  hit = ch_scene_hit(&scene, box->rect.x + box->rect.w + 30.0f, box->rect.y);
  CHECK(hit.kind == CH_HIT_NONE && hit.box == -1);

  /* Cables: on the curve (and a few pixels off) hits; far off does not. */
  for (uint32_t c = 0; c < scene.n_cables; ++c) {
    ch_cable_point(&scene, &scene.cables[c], 0.5f, &x, &y);
    CHECK(ch_scene_hit_cable(&scene, x, y + 3.0f, 6.0f) == (int)c);
    CHECK(ch_scene_hit_cable(&scene, x, y + 40.0f, 6.0f) != (int)c);
  }
  ch_cable_point(&scene, &scene.cables[0], 0.0f, &x, &y);
  float px = 0.0f;
  float py = 0.0f;
  ch_box_port_pos(&scene.boxes[scene.cables[0].from_box], true,
                  scene.cables[0].from_port, &px, &py);
  CHECK(x == px && y == py); /* it starts at its output */
  free_scene(&scene, model);
}

static void
test_values(void)
{
  const ChParamInfo* const cutoff = param_of("svf", "cutoff");
  const ChParamInfo* const res    = param_of("svf", "res");
  CHECK(ch_param_is_log(cutoff) && !ch_param_is_log(res));
  CHECK(ch_param_to_norm(cutoff, 20.0f) == 0.0f);
  CHECK(ch_param_to_norm(cutoff, 20000.0f) == 1.0f);
  CHECK_NEAR(ch_param_from_norm(cutoff, 0.5f), 632.456f, 0.01f);
  CHECK(ch_param_from_norm(cutoff, 2.0f) == 20000.0f);
  CHECK_NEAR(ch_param_from_norm(cutoff, ch_param_to_norm(cutoff, 1200.0f)),
             1200.0f, 0.01f);

  /* 100 px of drag is half the travel; Shift makes it a twentieth. */
  CHECK_NEAR(ch_param_drag(res, 0.2f, 100.0f, false), 0.7f, 1e-6f);
  CHECK_NEAR(ch_param_drag(res, 0.2f, 100.0f, true), 0.25f, 1e-6f);
  CHECK_NEAR(ch_param_drag(res, 0.2f, -100.0f, false), 0.0f, 0.0f);
  CHECK_NEAR(ch_param_drag(cutoff, 20.0f, 100.0f, false), 632.456f, 0.01f);
  CHECK_NEAR(ch_param_step(res, 0.5f, 3, false), 0.53f, 1e-6f);
  CHECK_NEAR(ch_param_step(res, 0.5f, -1, true), 0.499f, 1e-6f);

  const ChParamInfo* const shape = param_of("osc", "shape");
  CHECK(ch_param_n_choices(shape) == 4);
  CHECK(ch_param_drag(shape, 1.0f, 50.0f, false) == 3.0f);
  CHECK(ch_param_drag(shape, 1.0f, 500.0f, false) == 3.0f);
  CHECK(ch_param_step(shape, 1.0f, -1, false) == 0.0f);
  CHECK(ch_param_from_norm(shape, 0.4f) == 1.0f);

  char buf[32];
  CHECK(
    !strcmp(ch_param_format(cutoff, 1200.0f, buf, sizeof(buf)), "1.20 kHz"));
  CHECK(!strcmp(ch_param_format(cutoff, 440.0f, buf, sizeof(buf)), "440 Hz"));
  CHECK(!strcmp(ch_param_format(shape, 1.0f, buf, sizeof(buf)), "saw"));
  CHECK(!strcmp(ch_param_format(res, 0.3f, buf, sizeof(buf)), "0.300"));
  CHECK(!strcmp(
    ch_param_format(param_of("adsr", "attack"), 0.35f, buf, sizeof(buf)),
    "350 ms"));
  CHECK(
    !strcmp(ch_param_format(param_of("osc", "fine"), -7.0f, buf, sizeof(buf)),
            "-7.00 ct"));
}

/* Typed values: numbers with or without a unit or a multiple of it,
   choices by name or number, clamped to the range; nonsense refused. */
static void
test_parse(void)
{
  const ChParamInfo* const cutoff = param_of("svf", "cutoff");
  const ChParamInfo* const res    = param_of("svf", "res");
  const ChParamInfo* const att    = param_of("adsr", "attack");
  const ChParamInfo* const shape  = param_of("osc", "shape");
  const ChParamInfo* const fine   = param_of("osc", "fine");
  float                    v      = -1.0f;
  CHECK(ch_param_parse(cutoff, "500", &v) && v == 500.0f);
  CHECK(ch_param_parse(cutoff, " 1.2k ", &v) && v == 1200.0f);
  CHECK(ch_param_parse(cutoff, "1.2 kHz", &v) && v == 1200.0f);
  CHECK(ch_param_parse(cutoff, "440 Hz", &v) && v == 440.0f);
  CHECK(ch_param_parse(cutoff, "1e9", &v) && v == cutoff->max);
  CHECK(ch_param_parse(res, "0.35", &v) && v == 0.35f);
  CHECK(ch_param_parse(res, "-3", &v) && v == 0.0f);
  /* "3 ms" is exactly the float that "0.003" (as a patch says it) is. */
  CHECK(ch_param_parse(att, "3 ms", &v) && v == 0.003f);
  CHECK(ch_param_parse(att, "0.003", &v) && v == 0.003f);
  CHECK(ch_param_parse(att, "0.35s", &v) && v == 0.35f);
  CHECK(ch_param_parse(fine, "-6 ct", &v) && v == -6.0f);
  CHECK(ch_param_parse(shape, "Saw", &v) && v == 1.0f);
  CHECK(ch_param_parse(shape, "3", &v) && v == 3.0f);
  v = -1.0f;
  CHECK(!ch_param_parse(cutoff, "", &v) && !ch_param_parse(cutoff, "abc", &v));
  CHECK(!ch_param_parse(cutoff, "5 ms", &v) &&
        !ch_param_parse(att, "5 Hz", &v));
  CHECK(!ch_param_parse(res, "nan", &v) && !ch_param_parse(shape, "saww", &v));
  CHECK(v == -1.0f);
}

/* A choice of boxes: moved together; its copies get free names, kind by
   kind, and only the cables between chosen boxes go with them. */
static void
test_choice(void)
{
  ChScene        scene;
  ChModel* const model  = build_scene(&scene, demo);
  const int      osc    = ch_scene_find(&scene, "osc");
  const int      filter = ch_scene_find(&scene, "filter");
  const int      amp    = ch_scene_find(&scene, "amp");
  CHECK(ch_scene_n_chosen(&scene) == 0);
  scene.boxes[osc].chosen = scene.boxes[filter].chosen = true;
  const ChRect o                                       = scene.boxes[osc].rect;
  const ChRect a                                       = scene.boxes[amp].rect;
  ch_scene_move_chosen(&scene, 15.0f, -5.0f);
  CHECK(scene.boxes[osc].rect.x == o.x + 15.0f &&
        scene.boxes[osc].rect.y == o.y - 5.0f);
  CHECK(!memcmp(&scene.boxes[amp].rect, &a, sizeof(a)));

  uint32_t inner = 0;
  for (uint32_t i = 0; i < scene.n_cables; ++i) {
    if (ch_cable_inner(&scene, &scene.cables[i])) {
      ++inner;
      CHECK((int)scene.cables[i].from_box == osc &&
            (int)scene.cables[i].to_box == filter);
    }
  }
  CHECK(inner ==
        1); /* osc:out -> filter:in, not voice -> osc nor filter -> amp */

  scene.boxes[amp].chosen = true;
  char names[4][CH_NAME_MAX + 1];
  CHECK(ch_scene_copy_names(&scene, names, 4) == 3);
  CHECK(!strcmp(names[0], "osc1") && !strcmp(names[1], "svf1") &&
        !strcmp(names[2], "vca1"));
  free_scene(&scene, model);

  /* Two of a kind, and a name already taken: osc1 is, so osc2, osc3. */
  ChModel* const two = read_model(PRE ":osc1 ch:kind \"osc\" .\n"
                                      ":a ch:kind \"osc\" .\n"
                                      ":b ch:kind \"osc\" .\n");
  CHECK(ch_scene_build(&scene, two));
  scene.boxes[1].chosen = scene.boxes[2].chosen = true;
  CHECK(ch_scene_copy_names(&scene, names, 4) == 2);
  CHECK(!strcmp(names[0], "osc2") && !strcmp(names[1], "osc3"));
  CHECK(ch_scene_copy_names(&scene, names, 1) == 1);
  free_scene(&scene, two);
}

/* True if any chosen box moved by (dx, dy) overlaps a box of the scene or
   covers a point of a cable. */
static bool
copies_overlap(const ChScene* const scene, const float dx, const float dy)
{
  for (uint32_t c = 0; c < scene->n_boxes; ++c) {
    const ChRect m = scene->boxes[c].rect;
    for (uint32_t b = 0; scene->boxes[c].chosen && b < scene->n_boxes; ++b) {
      const ChRect r = scene->boxes[b].rect;
      if (m.x + dx < r.x + r.w && r.x < m.x + dx + m.w &&
          m.y + dy < r.y + r.h && r.y < m.y + dy + m.h) {
        return true;
      }
    }
    for (uint32_t i = 0; scene->boxes[c].chosen && i < scene->n_cables; ++i) {
      for (int k = 0; k <= 64; ++k) {
        float x = 0.0f;
        float y = 0.0f;
        ch_cable_point(scene, &scene->cables[i], (float)k / 64.0f, &x, &y);
        if (x > m.x + dx && x < m.x + dx + m.w && y > m.y + dy &&
            y < m.y + dy + m.h) {
          return true;
        }
      }
    }
  }
  return false;
}

/* Copies go to the nearest free place, in view when one is, and never on
   top of a box. */
static void
test_copy_offset(void)
{
  const ChRect all = { -1e4f, -1e4f, 2e4f, 2e4f };
  ChScene      scene;
  ChModel*     model = build_scene(&scene, PRE ":a ch:kind \"osc\" ; ch:x 0 ; "
                                                   "ch:y 0 .\n");
  scene.boxes[0].chosen = true;
  const ChRect a        = scene.boxes[0].rect;
  float        dx       = -1.0f;
  float        dy       = -1.0f;
  ch_scene_copy_offset(&scene, all, &dx, &dy);
  const bool below  = dx == 0.0f && dy > a.h && dy <= a.h + 30.0f;
  const bool beside = dy == 0.0f && dx > a.w && dx <= a.w + 30.0f;
  CHECK_MSG(below ? a.h <= a.w : beside && a.w <= a.h,
            "a lone box %g x %g copied to (%g, %g), not just beside or below",
            (double)a.w, (double)a.h, (double)dx, (double)dy);

  /* Only the space right of it in view: the copy goes there. */
  const ChRect right = { a.x + a.w + 50.0f, -1e4f, 1e4f, 2e4f };
  ch_scene_copy_offset(&scene, right, &dx, &dy);
  CHECK_MSG(a.x + dx >= right.x && a.x + dx < right.x + 20.0f,
            "copy at x %g, the view starts at %g", (double)(a.x + dx),
            (double)right.x);
  free_scene(&scene, model);

  /* b sits just below a: a's copy goes elsewhere, on no box. */
  model = build_scene(&scene, PRE ":a ch:kind \"osc\" ; ch:x 0 ; ch:y 0 .\n"
                                  ":b ch:kind \"osc\" ; ch:x 0 ; ch:y 120 .\n");
  scene.boxes[0].chosen = true;
  ch_scene_copy_offset(&scene, all, &dx, &dy);
  CHECK_MSG(!copies_overlap(&scene, dx, dy) && (dy != 0.0f || dx != 0.0f),
            "copy at (%g, %g)", (double)dx, (double)dy);
  free_scene(&scene, model);

  /* A large laid-out patch, its whole picture in view: ten chosen boxes
     still find a place that hides nothing. */
  static char big[64 * 1024];
  size_t      len = (size_t)snprintf(big, sizeof(big), "%s", PRE);
  for (int m = 0; m < 150; ++m) {
    len += (size_t)snprintf(big + len, sizeof(big) - len,
                            ":v%d ch:kind \"vca\" .\n", m);
    if (m > 0) {
      len += (size_t)snprintf(big + len, sizeof(big) - len,
                              "[] ch:from \"v%d:out\" ; ch:to \"v%d:in\" .\n",
                              m / 2, m);
    }
  }
  model = build_scene(&scene, big);
  for (uint32_t b = 0; b < scene.n_boxes; b += 15u) {
    scene.boxes[b].chosen = true;
  }
  ch_scene_copy_offset(&scene, scene.bounds, &dx, &dy);
  CHECK_MSG(!copies_overlap(&scene, dx, dy), "big patch: copies at (%g, %g)",
            (double)dx, (double)dy);
  free_scene(&scene, model);

  /* The demo's laid-out boxes: any choice's copies land on no box and
     hide no cable. */
  model = build_scene(&scene, demo);
  for (uint32_t b = 0; b < scene.n_boxes; ++b) {
    scene.boxes[b].chosen = true;
    ch_scene_copy_offset(&scene, all, &dx, &dy);
    CHECK_MSG(!copies_overlap(&scene, dx, dy),
              "copies of the first %u boxes at (%g, %g) overlap a box",
              (unsigned)b + 1u, (double)dx, (double)dy);
  }
  free_scene(&scene, model);
}

static void
test_error_names(void)
{
  const char* const e = "commit rejected: the links form a cycle: filter -> "
                        "amp -> osc2 -> filter (a signal may not feed ...)";
  CHECK(ch_text_names(e, "filter") && ch_text_names(e, "amp"));
  CHECK(ch_text_names(e, "osc2") && !ch_text_names(e, "osc"));
  CHECK(!ch_text_names(e, "ilt") && !ch_text_names(e, "filt"));
  CHECK(ch_text_names("no module named 'x.y'.", "x.y"));
  CHECK(ch_text_names("osc 'osc_1' has no output", "osc_1"));
  CHECK(!ch_text_names("osc 'osc_1' has no output", "osc_"));
}

static void
test_view(void)
{
  ChView view = { 10.0f, 20.0f, 1.0f, 0.0f, 40.0f, 800.0f, 500.0f };
  float  cx   = 0.0f;
  float  cy   = 0.0f;
  float  wx   = 0.0f;
  float  wy   = 0.0f;
  ch_view_zoom_at(&view, 2.0f, 300.0f, 200.0f);
  CHECK_NEAR(view.zoom, 2.0f, 0.0f);
  ch_view_to_canvas(&view, 300.0f, 200.0f, &cx, &cy);
  CHECK_NEAR(cx, 310.0f, 1e-3f); /* the point under the pointer stays */
  CHECK_NEAR(cy, 180.0f, 1e-3f);
  ch_view_to_window(&view, cx, cy, &wx, &wy);
  CHECK_NEAR(wx, 300.0f, 1e-3f);
  CHECK_NEAR(wy, 200.0f, 1e-3f);
  ch_view_zoom_at(&view, 100.0f, 0.0f, 0.0f);
  CHECK(view.zoom == CH_ZOOM_MAX);

  const ChRect bounds = { -100.0f, 50.0f, 1600.0f, 300.0f };
  ch_view_fit(&view, bounds);
  ch_view_to_window(&view, bounds.x, bounds.y, &wx, &wy);
  CHECK(wx >= view.left && wy >= view.top);
  ch_view_to_window(&view, bounds.x + bounds.w, bounds.y + bounds.h, &wx, &wy);
  CHECK(wx <= view.left + view.width && wy <= view.top + view.height);
  CHECK(view.zoom < 0.5f && view.zoom >= CH_ZOOM_MIN);
}

/* Patch -> pieces -> client -> picture, as the plugin's answers arrive. */
static void
test_client_pieces(void)
{
  ChClient client;
  CHECK(ch_client_init(&client));
  CHECK(client.want_patch && !client.have_patch);
  const uint32_t total = (uint32_t)strlen(demo);
  const uint32_t cut1  = total / 3u;
  const uint32_t cut2  = 2u * total / 3u;
  client.want_patch    = false; /* the UI sent its patch:Get */
  CHECK(ch_client_piece(&client, 7, 0, total, demo, cut1) == CH_PIECE_PENDING);
  CHECK(ch_client_piece(&client, 7, cut1, total, demo + cut1, cut2 - cut1) ==
        CH_PIECE_PENDING);
  CHECK(ch_client_piece(&client, 7, cut2, total, demo + cut2, total - cut2) ==
        CH_PIECE_COMPLETE);
  CHECK(client.have_patch && client.generation == 7);
  CHECK(ch_model_n_modules(client.model) == 6);
  CHECK(!client.want_patch);

  /* A piece missed: rejected, and the patch is asked for again. */
  CHECK(ch_client_piece(&client, 8, 0, total, demo, cut1) == CH_PIECE_PENDING);
  CHECK(ch_client_piece(&client, 8, cut2, total, demo + cut2, total - cut2) ==
        CH_PIECE_REJECTED);
  CHECK(client.want_patch && client.generation == 7);

  /* A commit elsewhere asks again; an echoed ch:Set changes one value. */
  client.want_patch = false;
  ch_client_committed(&client, 7);
  CHECK(!client.want_patch);
  ch_client_committed(&client, 9);
  CHECK(client.want_patch && client.newest == 9);
  CHECK(ch_client_param(&client, "filter", "cutoff", 900.0f));
  CHECK(!ch_client_param(&client, "filter", "cutoff", 900.0f));
  CHECK(!ch_client_param(&client, "nobody", "cutoff", 900.0f));
  float v = 0.0f;
  CHECK(!ch_model_get(client.model, "filter", "cutoff", &v, NULL) &&
        v == 900.0f);
  ch_client_free(&client);
}

/* The patch `text` arrives whole as generation `gen`. */
static void
arrives(ChClient* const client, const int64_t gen, const char* const text)
{
  const uint32_t n = (uint32_t)strlen(text);
  CHECK(ch_client_piece(client, gen, 0, n, text, n) == CH_PIECE_COMPLETE);
}

/* `text` with its first `from` replaced by `to`, in `out` (of room for
   `text` and 64 more bytes). */
static const char*
replaced(const char* const text,
         const char* const from,
         const char* const to,
         char* const       out)
{
  const char* const at = strstr(text, from);
  CHECK_MSG(at, "no \"%s\" in the text", from);
  snprintf(out, strlen(text) + 64u, "%.*s%s%s", at ? (int)(at - text) : 0, text,
           to, at ? at + strlen(from) : "");
  return out;
}

/* The header says "edited" when the patch no longer sounds as the
   program's file: moved boxes do not count, a changed value does; a new
   program clears it until its patch comes. */
static void
test_client_edited(void)
{
  ChClient client;
  CHECK(ch_client_init(&client));
  ch_client_read_bank(&client, CH_SOURCE_DIR "/presets/bank");
  FILE* const  f = fopen(CH_SOURCE_DIR "/presets/bank/00-init.ttl", "r");
  static char  init[4096];
  const size_t n = f ? fread(init, 1, sizeof(init) - 1u, f) : 0u;
  init[n]        = '\0';
  CHECK(f && n > 0u);
  if (f) {
    fclose(f);
  }
  ch_client_program(&client, 0.0f);
  arrives(&client, 1, init);
  CHECK(!client.edited);

  char other[sizeof(init) + 64];
  arrives(&client, 2, replaced(init, "ch:x 880", "ch:x 999", other));
  CHECK_MSG(!client.edited, "a moved box made the patch edited");

  arrives(&client, 3,
          replaced(init, "param:cutoff 2400", "param:cutoff 900", other));
  CHECK_MSG(client.edited, "a changed cutoff did not");

  ch_client_program(&client, 2.0f); /* the lead is on its way */
  CHECK(!client.edited);
  arrives(&client, 4, init); /* Init, while the port says Lead */
  CHECK(client.edited);
  ch_client_free(&client);
}

static void
test_bank(void)
{
  ChClient client;
  CHECK(ch_client_init(&client));
  ch_client_read_bank(&client, CH_SOURCE_DIR "/presets/bank");
  CHECK(client.n_bank == 16); /* presets/bank holds 16 programs */
  CHECK(client.bank[0].number == 0 && client.bank[7].number == 7);
  CHECK_MSG(!strcmp(ch_client_program_label(&client, 2), "Lead"), "%s",
            ch_client_program_label(&client, 2));
  CHECK(ch_client_program_label(&client, 42) == NULL);
  ch_client_free(&client);
}

int
main(void)
{
  RUN(test_layout_demo);
  RUN(test_layout_bank);
  RUN(test_placed_kept);
  RUN(test_hit);
  RUN(test_values);
  RUN(test_parse);
  RUN(test_choice);
  RUN(test_copy_offset);
  RUN(test_error_names);
  RUN(test_view);
  RUN(test_client_pieces);
  RUN(test_client_edited);
  RUN(test_bank);
  return CHECK_EXIT();
}
