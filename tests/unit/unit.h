/*
 * unit - helpers shared by the unit tests (cmocka).
 */
#ifndef MTRACK_UNIT_H
#define MTRACK_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* unit_tmpdir - a fresh directory under $TMPDIR; caller frees the string */
char	*unit_tmpdir(void);
/* unit_rmrf - remove a directory tree made by unit_tmpdir */
void	 unit_rmrf(const char *path);
/* unit_write - write a file; asserts on failure */
void	 unit_write(const char *path, const char *text);
/* unit_read - read a whole file (path relative to the repo root); NULL if absent */
char	*unit_read(const char *path, size_t *len);

#endif
