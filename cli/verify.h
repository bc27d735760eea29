/* The checks of trainguard verify, for the commands that must refuse a log
 * that does not pass them (lineage). */
#ifndef TG_CLI_VERIFY_H
#define TG_CLI_VERIFY_H

#include <stdio.h>

/* Verifies the NFILES logs FILES (one job's) and, with SEAL (NULL: none,
 * one log only), their seal; the problems and the verdict are printed to
 * REPORT. Returns verify's exit status: 0 every line verifies, 1 some does
 * not, 2 a log or the seal cannot be read. */
int tg_verify_logs(char **files, int nfiles, const char *seal, FILE *report);

#endif
