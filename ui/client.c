/* The UI's knowledge of the plugin, updated from its answers. */
#include "client.h"

#include "patch.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
ch_client_init(ChClient* const client)
{
  memset(client, 0, sizeof(*client));
  client->generation      = -1;
  client->newest          = -1;
  client->text_generation = -1;
  client->want_patch      = true;
  client->model           = ch_model_new();
  return client->model != NULL;
}

void
ch_client_free(ChClient* const client)
{
  ch_model_free(client->model);
  free(client->text);
  client->model = NULL;
  client->text  = NULL;
}

static ChPieceResult
reject(ChClient* const client)
{
  client->text_have       = 0;
  client->text_generation = -1;
  client->want_patch      = true;
  return CH_PIECE_REJECTED;
}

/* True if `a` and `b` sound alike: the same voices, modules of the same
   names, kinds and values, the same links.  Places and order do not
   count. */
static bool
same_sound(const ChModel* const a, const ChModel* const b)
{
  const uint32_t n = ch_model_n_modules(a);
  const uint32_t l = ch_model_n_links(a);
  if (n != ch_model_n_modules(b) || l != ch_model_n_links(b) ||
      ch_model_polyphony(a) != ch_model_polyphony(b)) {
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const ChKind* const kind = ch_model_module_kind(a, i);
    const int           j    = ch_model_find(b, ch_model_module_name(a, i));
    if (j < 0 || ch_model_module_kind(b, (uint32_t)j) != kind ||
        memcmp(ch_model_module_params(a, i),
               ch_model_module_params(b, (uint32_t)j),
               kind->n_params * sizeof(float))) {
      return false;
    }
  }
  for (uint32_t i = 0; i < l; ++i) {
    const ChLink* const x     = ch_model_link(a, i);
    bool                found = false;
    for (uint32_t k = 0; k < l && !found; ++k) {
      const ChLink* const y = ch_model_link(b, k);
      found = x->from_port == y->from_port && x->to_port == y->to_port &&
              !strcmp(ch_model_module_name(a, x->from_module),
                      ch_model_module_name(b, y->from_module)) &&
              !strcmp(ch_model_module_name(a, x->to_module),
                      ch_model_module_name(b, y->to_module));
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

/* Does the patch still sound as the program's file does?  (A program not
   in the bank, or a file that does not read, is not called edited.) */
static bool
edited(const ChClient* const client)
{
  const int number = (int)lroundf(client->program);
  for (uint32_t i = 0; i < client->n_bank; ++i) {
    if (client->bank[i].number != number) {
      continue;
    }
    char path[2 * CH_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s.ttl", client->bank_dir,
             client->bank[i].file);
    ChModel* const program = ch_model_new();
    ChError        err;
    const bool differs = program && !ch_patch_read_file(program, path, &err) &&
                         !same_sound(client->model, program);
    ch_model_free(program);
    return differs;
  }
  return false;
}

/* The whole text is here: read it into the model. */
static ChPieceResult
complete(ChClient* const client, const int64_t generation)
{
  ChError        err;
  const ChStatus st =
    ch_patch_read(client->model, client->text, client->text_total, &err);
  client->text_generation = -1;
  client->text_have       = 0;
  if (st) {
    snprintf(client->error, sizeof(client->error),
             "cannot show the plugin's patch: %.400s", err.msg);
    return CH_PIECE_REJECTED;
  }
  client->generation = generation;
  client->have_patch = true;
  client->edited     = edited(client);
  ++client->received;
  if (generation >= client->newest) {
    client->newest = generation;
  }
  return CH_PIECE_COMPLETE;
}

ChPieceResult
ch_client_piece(ChClient* const   client,
                const int64_t     generation,
                const uint32_t    offset,
                const uint32_t    total,
                const char* const text,
                const uint32_t    len)
{
  if (offset == 0) {
    char* const grown = (char*)realloc(client->text, (size_t)total + 1u);
    if (!grown) {
      return reject(client);
    }
    client->text            = grown;
    client->text_total      = total;
    client->text_have       = 0;
    client->text_generation = generation;
  }
  if (generation != client->text_generation || total != client->text_total ||
      offset != client->text_have || len > total - offset) {
    /* A piece missed, or a newer patch began mid-way: start over, unless
       a fresh answer is on its way anyway. */
    return client->want_patch ? CH_PIECE_REJECTED : reject(client);
  }
  memcpy(client->text + offset, text, len);
  client->text_have += len;
  client->text[client->text_have] = '\0';
  return client->text_have == total ? complete(client, generation)
                                    : CH_PIECE_PENDING;
}

void
ch_client_committed(ChClient* const client, const int64_t generation)
{
  if (generation > client->newest) {
    client->newest = generation;
  }
  if (generation != client->generation) {
    client->want_patch = true;
  }
}

bool
ch_client_param(ChClient* const   client,
                const char* const module,
                const char* const param,
                const float       value)
{
  float   old = 0.0f;
  ChError err;
  if (ch_model_get(client->model, module, param, &old, &err) ||
      !memcmp(&old, &value, sizeof(float))) {
    return false;
  }
  return !ch_model_set(client->model, module, param, value, &err);
}

void
ch_client_error(ChClient* const client, const char* const message)
{
  snprintf(client->error, sizeof(client->error), "%s", message ? message : "");
  client->error_generation = client->newest;
}

void
ch_client_file(ChClient* const client, const char* const path)
{
  snprintf(client->file, sizeof(client->file), "%s", path ? path : "");
}

/* The label of a bank file: "Lead" from "# Lead: two detuned saws ...",
   else the name part of NN-name.ttl, capitalised. */
static void
bank_label(const char* const path, const char* const file, char* const label)
{
  snprintf(label, CH_LABEL_MAX, "%.*s", (int)(strlen(file) - 7u), file + 3);
  if (label[0] >= 'a' && label[0] <= 'z') {
    label[0] = (char)(label[0] - 'a' + 'A');
  }
  FILE* const f = fopen(path, "r");
  char        line[256];
  while (f && fgets(line, sizeof(line), f)) {
    const char* const colon = strchr(line, ':');
    if (!strncmp(line, "# ", 2) && colon) {
      snprintf(label, CH_LABEL_MAX, "%.*s", (int)(colon - line - 2), line + 2);
      break;
    }
  }
  if (f) {
    fclose(f);
  }
}

static int
by_number(const void* const a, const void* const b)
{
  return ((const ChProgram*)a)->number - ((const ChProgram*)b)->number;
}

void
ch_client_program(ChClient* const client, const float program)
{
  client->program = program;
  client->edited  = false;
}

void
ch_client_read_bank(ChClient* const client, const char* const dir)
{
  client->n_bank = 0;
  snprintf(client->bank_dir, sizeof(client->bank_dir), "%s", dir);
  DIR* const     d = opendir(dir);
  struct dirent* e = NULL;
  while (d && (e = readdir(d)) && client->n_bank < CH_BANK_MAX) {
    const char* const name = e->d_name;
    const size_t      len  = strlen(name);
    if (len < 8 || name[0] < '0' || name[0] > '9' || name[1] < '0' ||
        name[1] > '9' || name[2] != '-' || strcmp(name + len - 4, ".ttl")) {
      continue;
    }
    ChProgram* const p = &client->bank[client->n_bank++];
    char             path[CH_PATH_MAX + 256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    p->number = (name[0] - '0') * 10 + (name[1] - '0');
    snprintf(p->file, sizeof(p->file), "%.*s", (int)(len - 4u), name);
    bank_label(path, name, p->label);
  }
  if (d) {
    closedir(d);
  }
  qsort(client->bank, client->n_bank, sizeof(ChProgram), by_number);
}

const char*
ch_client_program_label(const ChClient* const client, const int number)
{
  for (uint32_t i = 0; i < client->n_bank; ++i) {
    if (client->bank[i].number == number) {
      return client->bank[i].label;
    }
  }
  return NULL;
}
