/*
 * hearth-provision's command side: the options every command shares, the
 * state directory's files, the libvirt glue and the readiness checks. One
 * `<cmd>_main` per command file (cmd_plan.c, cmd_up.c, ...).
 */
#ifndef HEARTH_PROVISION_CLI_H
#define HEARTH_PROVISION_CLI_H

#include <stdbool.h>
#include <libvirt/libvirt.h>

#include "provision.h"

struct prov_cli {
	const char *settings_path; /* NULL: the seed defaults */
	const char *uri;
	char *state_dir; /* absolute */
	bool yes, no_wait;
	const char *dump_dir; /* hidden --dump: live XML after the command */
	unsigned timeout_seconds; /* the cluster wait */
	struct prov_settings *s;
	virConnectPtr conn;
	bool test_driver;
};

/* Prints "hearth-provision: message" on stderr. */
void prov_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int plan_main(int argc, char **argv, struct prov_cli *cli);
/* Observes, computes the plan and prints its warnings (plan and up share
 * it). 0, or an exit code. */
int plan_compute(struct prov_cli *cli, struct prov_pki **pki,
    struct prov_plan *plan);
int up_main(int argc, char **argv, struct prov_cli *cli);
int down_main(int argc, char **argv, struct prov_cli *cli);
int status_main(int argc, char **argv, struct prov_cli *cli);
int kubeconfig_main(int argc, char **argv, struct prov_cli *cli);

/* state.c: files in the state directory. */
/* STATE/rel into buf; returns buf. */
char *state_path(const struct prov_cli *cli, const char *rel, char *buf,
    size_t len);
/* The file's content (NUL-terminated), NULL if it cannot be read. */
char *state_read(const struct prov_cli *cli, const char *rel);
/* Writes atomically with mode; makes parent directories (0711). */
int state_write(const struct prov_cli *cli, const char *rel, const char *data,
    unsigned mode);
bool state_exists(const struct prov_cli *cli, const char *rel);
int state_remove(const struct prov_cli *cli, const char *rel);
int state_mkdir(const struct prov_cli *cli, const char *rel, unsigned mode);
/* The PKI kept in pki/, NULL when absent or unreadable. */
struct prov_pki *state_pki_load(const struct prov_cli *cli);
int state_pki_save(const struct prov_cli *cli, const struct prov_pki *pki);
/* Whether NODE's documents in the state dir are what pki would write. */
bool state_seed_current(const struct prov_cli *cli, const struct prov_node *n,
    const struct prov_pki *pki);
/* Writes NODE's documents and seed.iso. */
int state_seed_write(const struct prov_cli *cli, const struct prov_node *n,
    const struct prov_pki *pki);

/* iso.c */
struct prov_iso_file {
	const char *name;
	const char *content;
};
int prov_iso_write(const char *path, const char *label,
    const struct prov_iso_file *files, size_t n);

/* virt.c: libvirt. Errors print one line naming the cause. */
int virt_open(struct prov_cli *cli);
void virt_close(struct prov_cli *cli);
/* libvirt's last error message. */
const char *virt_error(void);
/* Checks the base image exists and fits every node's disk. */
int virt_check_base(const struct prov_cli *cli, const char **format);
int virt_observe(struct prov_cli *cli, struct prov_observed *o,
    struct prov_pki *pki);
void virt_observed_free(struct prov_observed *o);
/* Runs one step; on failure fills err. */
int virt_step(struct prov_cli *cli, const struct prov_step *st,
    struct prov_pki **pki, char *err, size_t errlen);
/* Removes what up made, per the state dir; prints one line per object. */
int virt_down(struct prov_cli *cli);
/* Writes the live XML of every object to dir (tests). */
int virt_dump(struct prov_cli *cli, const char *dir);
/* Domain state name ("running", "shut off", "absent", ...). */
const char *virt_domain_state(struct prov_cli *cli, const char *name);

/* ready.c: the cluster's readiness through the API server. */
struct prov_readiness {
	bool api_ready;
	size_t nodes_ready;
	size_t nodes_total;
	char detail[256]; /* why not, when not */
};
/* One probe: /readyz, then the Nodes' Ready conditions. */
int ready_probe(const struct prov_cli *cli, const struct prov_pki *pki,
    int timeout_ms, struct prov_readiness *out);
/* Creates token as a bootstrap token in the cluster (24 h). */
int ready_token_create(const struct prov_cli *cli, const struct prov_pki *pki,
    const char *token, char *err, size_t len);
/* Waits for domain lifecycle events, then for the cluster. */
int ready_wait(struct prov_cli *cli, const struct prov_pki *pki);

#endif
