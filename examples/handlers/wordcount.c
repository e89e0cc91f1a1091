/*
 * wordcount — counts the lines, words and bytes of the text files a file
 * trigger reports (its event is a Records array), and keeps a running total
 * of words in state.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <faas/handler.h>

/* Files larger than this are counted up to it and marked truncated: a demo
 * handler must not read a disk image because someone dropped it in the inbox. */
#define WORDCOUNT_MAX_BYTES (16u * 1024u * 1024u)
#define WORDCOUNT_TOTAL_KEY "total_words"

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int wordcount(faas_ctx *ctx, const cJSON *event, cJSON **result);

typedef struct counts {
	unsigned long long lines, words, bytes;
	int truncated;
} counts;

static int count_file(const char *path, counts *c)
{
	FILE *f = fopen(path, "rb");
	int ch, in_word = 0;

	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	while ((ch = getc(f)) != EOF) {
		if (c->bytes == WORDCOUNT_MAX_BYTES) {
			c->truncated = 1;
			break;
		}
		c->bytes++;
		if (ch == '\n')
			c->lines++;
		if (isspace(ch)) {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			c->words++;
		}
	}
	fclose(f);
	return 0;
}

/* One record: count its file if it was created or written. Returns the words. */
static unsigned long long count_record(faas_ctx *ctx, const cJSON *record, cJSON *files)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(record, "eventName");
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(record, "file");
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(file, "root");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(file, "key");
	char path[PATH_MAX];
	cJSON *entry;
	counts c;

	if (!cJSON_IsString(name) || !cJSON_IsString(root) || !cJSON_IsString(key))
		return 0;
	if (strncmp(name->valuestring, "ObjectCreated", 13) != 0 &&
	    strncmp(name->valuestring, "ObjectModified", 14) != 0)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", root->valuestring, key->valuestring) >=
	    (int)sizeof(path))
		return 0;
	if (count_file(path, &c) != 0) {
		faas_log(ctx, "%s: gone before it could be read", key->valuestring);
		return 0;
	}
	faas_log(ctx, "%s: %llu lines, %llu words, %llu bytes%s", key->valuestring, c.lines,
		 c.words, c.bytes, c.truncated ? " (truncated)" : "");
	entry = cJSON_CreateObject();
	if (!entry)
		return 0;
	cJSON_AddStringToObject(entry, "key", key->valuestring);
	cJSON_AddNumberToObject(entry, "lines", (double)c.lines);
	cJSON_AddNumberToObject(entry, "words", (double)c.words);
	cJSON_AddNumberToObject(entry, "bytes", (double)c.bytes);
	cJSON_AddItemToArray(files, entry);
	return c.words;
}

int wordcount(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *records = cJSON_GetObjectItemCaseSensitive(event, "Records");
	const cJSON *record;
	unsigned long long words = 0;
	int64_t total = 0;
	cJSON *out, *files;

	if (!cJSON_IsArray(records))
		return faas_ctx_error(ctx, "BadInput", "expected a Records array");
	out = cJSON_CreateObject();
	files = cJSON_AddArrayToObject(out, "files");
	if (!out || !files) {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "OutOfMemory", "cannot build the result");
	}
	cJSON_ArrayForEach(record, records)
		words += count_record(ctx, record, files);
	if (faas_state_incr(ctx, WORDCOUNT_TOTAL_KEY, (int64_t)words, &total) != 0)
		faas_log(ctx, "could not update %s", WORDCOUNT_TOTAL_KEY);
	cJSON_AddNumberToObject(out, "total_words", (double)total);
	*result = out;
	return 0;
}
