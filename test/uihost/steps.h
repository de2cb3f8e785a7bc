/* The steps the UI host's tests share (ui-host.c): the rig, reports,
   screenshots, clicks and drags, and the plugin's patch asked afresh. */
#ifndef CH_UIHOST_STEPS_H
#define CH_UIHOST_STEPS_H

#include "rig.h"

#include "../../src/model.h"

#include <stdbool.h>

extern Rig         rig;
extern const char* out_dir;

/** Print "PASS name" or "FAIL name (why)". */
void report(const char* name, bool ok, const char* why);
/** Save the window as OUT_DIR/name.png. */
void shot(const char* name);
/** Run `n` cycles of plugin and UIs. */
void cycles(int n);
/** Cycles enough for a commit and the patch that follows it. */
void run_commits(void);
/** The first UI's probe, and its handle. */
const ChUiProbe* probe(void);
void*            ui0(void);
/** Program `name` of the bank (e.g. "00-init"), read from its file. */
ChModel* bank_patch(const char* name);
/** Press and release button 1 at window pixel (x, y). */
void click_at(int x, int y);
/** Press at (x0, y0), carry to (x1, y1) in steps (shot `shot_name` before
    letting go, if not NULL), release, run the commit. */
void carry(int x0, int y0, int x1, int y1, const char* shot_name);
/** Carry a cable from output `from` to input `to` ("module:port"), as
    carry() does; false (and said) if either is not on screen. */
bool plug(const char* from, const char* to, const char* shot_name);
/** Carry the cable off input `to` ("module:port") to the empty canvas
    below it; false (and said) if it is not on screen. */
bool unplug(const char* to);
/** Does the plugin's patch have the link `from` -> `to` ("module:port")? */
bool plugin_link(const char* from, const char* to);
/** The plugin's patch as text (asked afresh); free() it. */
char* plugin_text(void);

/** build-demo.c: the demo patch built by hand from an empty one. */
void test_build_demo(void);

#endif /* CH_UIHOST_STEPS_H */
