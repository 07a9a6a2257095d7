#!/usr/bin/env bats
# scripts/layering (make lint): lib/'s includes go down its layers only,
# and no modules call each other in a cycle.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# a tree of its own: lib/core/a.c and lib/io/b.c, with the script
tree() {
	mkdir -p t/scripts t/lib/core t/lib/io t/o/lib/core t/o/lib/io
	cp "$MERIT_ROOT/scripts/layering" t/scripts/
	printf '%s\n' "$1" > t/lib/core/a.c
	printf '%s\n' "$2" > t/lib/io/b.c
	touch t/lib/core/a.h t/lib/io/b.h
	cc -It/lib -c -o t/o/lib/core/a.o t/lib/core/a.c
	cc -It/lib -c -o t/o/lib/io/b.o t/lib/io/b.c
}

@test "make lint: this tree has no upward include and no cycle, the man pages are clean" {
	run make -s -C "$MERIT_ROOT" --no-print-directory lint
	assert_success
	assert_line --regexp '^layering: [0-9]+ module dependencies, no cycle, no upward include$'
}

@test "a lower layer that includes a higher one, or calls into it, is reported" {
	tree '#include "io/b.h"
int b(void); int a(void) { return b(); }' '#include "core/a.h"
int b(void) { return 1; }'
	run t/scripts/layering "$PWD/t/o"
	assert_failure 1
	assert_line 'layering: lib/core/a.c: includes io/b.h (layer io is not below core)'
	assert_line 'layering: core/a calls into io/b (a higher layer)'
}

@test "two modules that call each other are a cycle" {
	tree 'int b(void); int a(int n) { return n ? b() : 0; }' \
	    'int a(int); int b(void) { return a(0); }'
	run t/scripts/layering "$PWD/t/o"
	assert_failure 1
	assert_line 'layering: modules call each other in a cycle:'
}
