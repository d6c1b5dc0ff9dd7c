// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
/* Config file (INI, parsed by inih) and KILN_* environment into arguments. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "util.h"

struct cfg_ctx {
	const char *cmd;
	const struct option *longopts;
	const char *const *skip;
	struct config_args *out;
	char err[512];		/* the first problem found */
	bool nomem;
};

static bool skipped(const char *const *skip, const char *name)
{
	for (; skip && *skip; skip++)
		if (!strcmp(*skip, name))
			return true;
	return false;
}

static const struct option *find_opt(const struct option *o, const char *name)
{
	for (; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

static int keep(struct config_args *ca, char *s)
{
	char **n = realloc(ca->owned, (size_t)(ca->nr_owned + 1) * sizeof(*n));

	if (!n) {
		free(s);
		return -ENOMEM;
	}
	ca->owned = n;
	ca->owned[ca->nr_owned++] = s;
	return 0;
}

static int push(struct config_args *ca, char *arg, const char *origin)
{
	char **a = realloc(ca->argv, (size_t)(ca->argc + 2) * sizeof(*a));
	const char **o;

	if (!a)
		return -ENOMEM;
	ca->argv = a;
	o = realloc(ca->origin, (size_t)(ca->argc + 2) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	ca->origin = o;
	ca->argv[ca->argc] = arg;
	ca->origin[ca->argc] = origin;
	ca->argc++;
	ca->argv[ca->argc] = NULL;
	ca->origin[ca->argc] = NULL;
	return 0;
}

/* "true"/"false" and friends; -1 for anything else. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Option @name = @value from @origin as one "--name=value" argument.
 * Returns 0, or -EINVAL with @c->err set. */
static int add_option(struct cfg_ctx *c, const char *name, const char *value, const char *origin)
{
	const struct option *o = find_opt(c->longopts, name);
	char *arg;
	int b;

	if (!o || skipped(c->skip, name)) {
		snprintf(c->err, sizeof(c->err), "%s: unknown option '%s'", origin, name);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		b = parse_bool(value);
		if (b < 0) {
			snprintf(c->err, sizeof(c->err), "%s: invalid %s '%s': expected true or false",
				 origin, name, value);
			return -EINVAL;
		}
		if (!b)
			return 0;
		if (asprintf(&arg, "--%s", name) < 0)
			goto nomem;
	} else if (asprintf(&arg, "--%s=%s", name, value) < 0) {
		goto nomem;
	}
	if (keep(c->out, arg) || push(c->out, arg, origin))
		goto nomem;
	return 0;
nomem:
	c->nomem = true;
	snprintf(c->err, sizeof(c->err), "%s: out of memory", origin);
	return -ENOMEM;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_ctx *c = user;

	if (c->err[0])
		return 1;	/* the first error is the one reported */
	if (section[0] && strcmp(section, c->cmd)) {
		snprintf(c->err, sizeof(c->err), "%s: unknown section [%s] (expected [%s])",
			 c->out->config_path, section, c->cmd);
		return 0;
	}
	return add_option(c, name, value, c->out->config_path) ? 0 : 1;
}

/* --config FILE from the command line, if given. */
static const char *config_arg(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	return path;
}

static int read_file(struct cfg_ctx *c, int argc, char **argv)
{
	const char *path = config_arg(argc, argv);
	bool must = true;
	FILE *f;
	int line;

	if (!path)
		path = getenv("KILN_CONFIG");
	if (!path || !*path) {
		path = KILN_CONFIG_DEFAULT;
		must = false;
	}
	f = fopen(path, "re");
	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		p_err("failed to read config file %s: %s", path, strerror(errno));
		return KILN_EXIT_RUNTIME;
	}
	c->out->config_path = strdup(path);
	if (!c->out->config_path) {
		fclose(f);
		return KILN_EXIT_RUNTIME;
	}
	line = ini_parse_file(f, on_ini, c);
	fclose(f);
	if (c->nomem) {
		p_err("failed to read config file %s: out of memory", path);
		return KILN_EXIT_RUNTIME;
	}
	if (c->err[0]) {
		/* inih tells the line of the first entry a handler refused */
		if (line > 0)
			p_err("%s:%d: %s", path, line, c->err + strlen(path) + 2);
		else
			p_err("%s", c->err);
		return KILN_EXIT_USAGE;
	}
	if (line) {
		p_err("%s:%d: not 'name = value' or '[section]'", path, line);
		return KILN_EXIT_USAGE;
	}
	return 0;
}

static int read_env(struct cfg_ctx *c)
{
	for (const struct option *o = c->longopts; o->name; o++) {
		char var[64], *env;
		size_t n = 5;

		if (skipped(c->skip, o->name))
			continue;
		memcpy(var, "KILN_", 5);
		for (const char *p = o->name; *p && n < sizeof(var) - 1; p++)
			var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		var[n] = '\0';
		env = getenv(var);
		if (!env)
			continue;
		/* the name outlives this call: kept with the arguments */
		env = strdup(var);
		if (!env || keep(c->out, env)) {
			p_err("out of memory");
			return KILN_EXIT_RUNTIME;
		}
		if (add_option(c, o->name, getenv(var), env)) {
			p_err("%s", c->err);
			return c->nomem ? KILN_EXIT_RUNTIME : KILN_EXIT_USAGE;
		}
	}
	return 0;
}

int config__args(const char *cmd, const struct option *longopts, const char *const *skip,
		 int argc, char **argv, struct config_args *out)
{
	struct cfg_ctx *c = calloc(1, sizeof(*c));
	int ret;

	memset(out, 0, sizeof(*out));
	if (!c || push(out, argv[0], NULL)) {
		free(c);
		p_err("out of memory");
		return KILN_EXIT_RUNTIME;
	}
	*c = (struct cfg_ctx){ .cmd = cmd, .longopts = longopts, .skip = skip, .out = out };
	ret = read_file(c, argc, argv);
	if (!ret)
		ret = read_env(c);
	for (int i = 1; !ret && i < argc; i++)
		if (push(out, argv[i], NULL)) {
			p_err("out of memory");
			ret = KILN_EXIT_RUNTIME;
		}
	free(c);
	return ret;
}

void config__free(struct config_args *ca)
{
	for (int i = 0; i < ca->nr_owned; i++)
		free(ca->owned[i]);
	free(ca->owned);
	free(ca->argv);
	free(ca->origin);
	free(ca->config_path);
	memset(ca, 0, sizeof(*ca));
}
