/*
 * replay.c: a main() for the fuzz targets without libFuzzer (the pattern of
 * libpcap's onefile.c): runs every file named on the command line, or every
 * file in a named directory, through LLVMFuzzerTestOneInput once.  Crash
 * reproducers kept under tests/fuzz/corpus/ are replayed by `make check`.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        if (fp != NULL)
            fclose(fp);
        return 1;
    }
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        fclose(fp);
        return 1;
    }
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

/* Runs a file, or every file below a directory (depth-limited). */
static void run_path(const char *path, int depth, int *files, int *bad)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *bad += run_file(path);
        (*files)++;
        return;
    }
    if (depth > 8 || (d = opendir(path)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char sub[4096];

        if (e->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
            continue;
        run_path(sub, depth + 1, files, bad);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    int i, files = 0, bad = 0;

    for (i = 1; i < argc; i++)
        run_path(argv[i], 0, &files, &bad);
    printf("replay: %d inputs, %d unreadable\n", files, bad);
    return bad != 0;
}
