/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A command's options from its config file and the environment, turned into
 * "--name=value" arguments that go before the command line's own, so one
 * parser checks them all and the command line wins. */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <getopt.h>

#define KILN_CONFIG_DEFAULT "/etc/kiln/kiln.conf"

struct config_args {
	int argc;
	char **argv;		/* argv[0], config file, environment, command line */
	const char **origin;	/* per argument: "FILE:LINE", "KILN_X", NULL: command line */
	char *config_path;	/* the file read, NULL if none */
	char **owned;		/* strings to free */
	int nr_owned;
};

/* Build @out for command @cmd from: the file named by --config FILE on the
 * command line, else $KILN_CONFIG, else KILN_CONFIG_DEFAULT when it exists
 * (an INI file: "name = value" per line, names of @longopts without the
 * dashes, optionally under a [@cmd] section; flags take true or false);
 * then KILN_<NAME> variables (upper case, '-' as '_'); then @argv. Options
 * in @skip (NULL-terminated) are not taken from the file or environment.
 * Returns 0, KILN_EXIT_USAGE after one error line for a bad file, or
 * KILN_EXIT_RUNTIME when the file cannot be read. */
int config__args(const char *cmd, const struct option *longopts, const char *const *skip,
		 int argc, char **argv, struct config_args *out);
void config__free(struct config_args *ca);

#endif
