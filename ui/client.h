/* What the UI knows of the plugin, from its answers (no LV2 here): the
   active patch reassembled from pieces, the generation, the last error,
   the patch file, the level, the program and the bank's names. */
#ifndef CH_UI_CLIENT_H
#define CH_UI_CLIENT_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CH_BANK_MAX  128u
#define CH_LABEL_MAX 48u
#define CH_ERROR_MAX 512u
#define CH_PATH_MAX  1024u

/** One program of the factory bank. */
typedef struct {
  int  number;             /**< NN of NN-name.ttl */
  char file[CH_LABEL_MAX]; /**< NN-name, the file without .ttl */
  char label[CH_LABEL_MAX];
} ChProgram;

typedef struct {
  ChModel* model;      /**< the active patch as last received (never NULL
                          after init) */
  int64_t  generation; /**< of `model`; -1 before the first */
  int64_t  newest;     /**< newest generation announced by ch:Committed */
  bool     have_patch; /**< `model` came from the plugin */
  unsigned received;   /**< whole patches received */

  /* A patch arriving in pieces. */
  char*    text;
  uint32_t text_total;
  uint32_t text_have;
  int64_t  text_generation;

  char    error[CH_ERROR_MAX]; /**< last error from the plugin, or "" */
  int64_t error_generation;    /**< the newest generation when it came */
  char    file[CH_PATH_MAX];   /**< watched patch file, or "" */
  float   level[2];            /**< output peak, linear, left and right */
  float   program;             /**< value of the program port */
  bool    want_patch;          /**< the patch should be asked for */
  bool    edited; /**< the patch no longer sounds as program `program` does */

  ChProgram bank[CH_BANK_MAX];
  uint32_t  n_bank;
  char      bank_dir[CH_PATH_MAX]; /**< where the bank's files are */
} ChClient;

/** Set up an empty client; false if out of memory. */
bool ch_client_init(ChClient* client);

/** Free what it holds.  Safe on a zeroed client. */
void ch_client_free(ChClient* client);

/** What a piece did to the picture. */
typedef enum {
  CH_PIECE_PENDING,  /**< stored; more to come */
  CH_PIECE_COMPLETE, /**< the patch is whole and now in `model` */
  CH_PIECE_REJECTED, /**< out of order or unreadable: asked again */
} ChPieceResult;

/**
   A piece of the active patch: bytes `offset`.. of a `total`-byte text of
   `generation`.  Pieces come in order; a new generation starts over.
*/
ChPieceResult ch_client_piece(ChClient*   client,
                              int64_t     generation,
                              uint32_t    offset,
                              uint32_t    total,
                              const char* text,
                              uint32_t    len);

/** A ch:Committed of `generation`: the patch is asked for again. */
void ch_client_committed(ChClient* client, int64_t generation);

/** A ch:Set echoed by the plugin; true if it changed a known value. */
bool ch_client_param(ChClient*   client,
                     const char* module,
                     const char* param,
                     float       value);

/** A ch:Error's message. */
void ch_client_error(ChClient* client, const char* message);

/** The watched patch file ("" for none). */
void ch_client_file(ChClient* client, const char* path);

/**
   Read the bank's names from `dir` (<bundle>/bank): each NN-name.ttl, its
   label from its first "# Label: ..." comment.  Sorted by NN.
*/
void ch_client_read_bank(ChClient* client, const char* dir);

/**
   The program port's value is now `program`: `edited` is cleared until the
   patch the plugin loads for it arrives (no flash of "edited" between).
*/
void ch_client_program(ChClient* client, float program);

/** Label of program `number`, or NULL. */
const char* ch_client_program_label(const ChClient* client, int number);

#endif /* CH_UI_CLIENT_H */
