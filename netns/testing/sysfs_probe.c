/* Runs as a container's process: prints "sysfs at /sys" if a sysfs is
 * mounted there, then the uid_map and gid_map the process sees. Static, with
 * no dependencies, so a rootfs needs nothing else. */
#include <stdio.h>
#include <string.h>

static void print_file(const char* path) {
  char line[512];
  FILE* f = fopen(path, "r");
  if (f == NULL) return;
  while (fgets(line, sizeof(line), f) != NULL) fputs(line, stdout);
  fclose(f);
}

int main(void) {
  char line[4096];
  FILE* f = fopen("/proc/self/mountinfo", "r");
  if (f == NULL) {
    puts("no /proc");
    return 1;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    /* Fields: id parent major:minor root mountpoint options ... - fstype */
    char mountpoint[1024];
    char fstype[64];
    const char* sep = strstr(line, " - ");
    if (sep == NULL) continue;
    if (sscanf(line, "%*s %*s %*s %*s %1023s", mountpoint) != 1) continue;
    if (sscanf(sep, " - %63s", fstype) != 1) continue;
    if (strcmp(mountpoint, "/sys") == 0 && strcmp(fstype, "sysfs") == 0) {
      puts("sysfs at /sys");
    }
  }
  fclose(f);
  print_file("/proc/self/uid_map");
  print_file("/proc/self/gid_map");
  return 0;
}
