/* replay_main — runs a libFuzzer harness over saved inputs without libFuzzer, so that any
 * compiler (and CTest) replays the corpus: every file in each directory given, or the files
 * themselves. Fails when a directory cannot be read or holds no input, so a missing corpus
 * is not a pass. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0 || st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	/* a fresh allocation of the exact size, so ASan sees reads past the input */
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	int ran = 0, failed = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i]) < 0;
			ran++;
			continue;
		}
		struct dirent **ents;
		int n = scandir(argv[i], &ents, NULL, by_name);
		if (n < 0) {
			fprintf(stderr, "replay: cannot list %s\n", argv[i]);
			failed++;
			continue;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];
			struct stat fst;
			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
			if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode)) {
				failed += run_file(path) < 0;
				ran++;
			}
			free(ents[j]);
		}
		free(ents);
	}
	printf("replayed %d input(s), %d unreadable\n", ran, failed);
	return failed || !ran ? 1 : 0;
}
