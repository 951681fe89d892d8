/* test_privdrop — the worker's switch from root to its own user: parsing "uid:gid", and the
 * drop itself in a child process (when the test runs as root), which must end with the
 * socket's group and no way back to root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"

static void parses_uid_gid(void **state)
{
	(void)state;
	struct ff_err err;
	uid_t u;
	gid_t g;
	assert_int_equal(privdrop_parse("10001:10002", &u, &g, &err), 0);
	assert_int_equal(u, 10001);
	assert_int_equal(g, 10002);
	const char *bad[] = {"",    "10001",  "0:10", "10:0",	       "a:b", "10:",
			     ":10", "10:10x", "-1:5", "99999999999:1", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(privdrop_parse(bad[i], &u, &g, &err), FF_EINVAL);
	assert_int_equal(privdrop_parse(NULL, &u, &g, &err), FF_EINVAL);
}

static void nothing_to_do_without_a_user(void **state)
{
	(void)state;
	struct ff_err err;
	uid_t before = geteuid();
	assert_int_equal(privdrop(NULL, NULL, &err), 0);
	assert_int_equal(privdrop("", "unix:///nonexistent", &err), 0);
	assert_int_equal(geteuid(), before);
}

/* In a child: drop to 4242:4343 with a socket owned by group 4444; exit 0 if all holds. */
static int child_drop(const char *sock)
{
	char host[160];
	struct ff_err err;
	snprintf(host, sizeof(host), "unix://%s", sock);
	if (privdrop("4242:4343", host, &err) < 0)
		return 10;
	gid_t groups[4];
	int n = getgroups(4, groups);
	if (getuid() != 4242 || geteuid() != 4242 || getgid() != 4343 || getegid() != 4343)
		return 11;
	if (n != 1 || groups[0] != 4444)
		return 12;
	return setuid(0) == 0 ? 13 : 0;
}

static void drops_root_keeping_the_socket_group(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char dir[] = "/tmp/ff-privdrop-XXXXXX", sock[64];
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/docker.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chown(sock, 0, 4444), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_drop(sock));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(fd);
	unlink(sock);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_uid_gid),
	    cmocka_unit_test(nothing_to_do_without_a_user),
	    cmocka_unit_test(drops_root_keeping_the_socket_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
