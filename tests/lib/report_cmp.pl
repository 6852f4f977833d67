#!/usr/bin/perl
# report_cmp.pl HTML DIR - the numbers of a report page (the file, the
# answer of /report or the DOM a browser rendered) against mtrackctl stats
# --json for the same filters, in DIR/{total,day,hour,link,campaign,domain}.json.
# Reads the values by their data-k/data-v attributes. Prints "# ..." lines
# for each difference and the count of values compared; exit 0 when equal.
use strict;
use warnings;
use JSON::PP;
use HTML::Entities qw(decode_entities);

my ($html_file, $dir) = @ARGV;
open(my $fh, '<:raw', $html_file) or die "$html_file: $!";
my $html = do { local $/; <$fh> };
close($fh);
my ($bad, $n) = (0, 0);

sub json_of {
	open(my $f, '<:raw', "$dir/$_[0].json") or die "$dir/$_[0].json: $!";
	local $/;
	return decode_json(<$f>);
}
sub section {	# the HTML from <TAG id="ID" to its first </TAG>
	my ($tag, $id) = @_;
	return $html =~ /(<$tag\b[^>]*\bid="$id".*?<\/$tag>)/s ? $1 : undef;
}
sub values_in {	# data-k => data-v of a piece of HTML
	my $s = "$_[0]";	# a copy: the argument may be $2, which matching resets
	my %v;
	$v{$1} = $2 while $s =~ /data-k="([^"]+)" data-v="([^"]*)"/g;
	return \%v;
}
sub want {	# the value of a stats key ("opens_by_class.proxy") in a row
	my ($row, $k) = @_;
	my $v = $row;
	for my $p (split /\./, $k) { $v = ref $v eq 'HASH' ? $v->{$p} : undef }
	return $v;
}
sub same {
	my ($what, $got, $exp) = @_;
	my $num = qr/^-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;
	my $ok;
	$n++;
	if (!defined $exp || $exp eq 'null') {
		$ok = !defined $got || $got eq 'null' || $got eq '0';
	} else {
		$ok = defined $got && $got =~ $num && "$exp" =~ $num &&
		    abs($got - $exp) < 1e-4;
	}
	return if $ok;
	$bad++;
	printf "# %s: report %s, stats %s\n", $what, $got // 'none', $exp // 'none';
}
sub rows_of {	# <tr ATTR="NAME">...</tr> of a table: [name, {k => v}]
	my ($table, $attr) = @_;
	my @r;
	while ($table =~ /<tr\b[^>]*\b$attr="([^"]*)"[^>]*>(.*?)<\/tr>/sg) {
		push @r, [decode_entities($1), values_in($2)];
	}
	return @r;
}

# totals: every value the page shows against the total row
my $total = json_of('total')->{rows}[0] // {};
my $tot = section('section', 'totals') or die "no totals section\n";
my $tv = values_in($tot);
die "no values in the totals\n" unless %$tv;
same("total $_", $tv->{$_}, want($total, $_) // 0) for grep { $_ ne 'click_to_open' } sort keys %$tv;
same('total click_to_open', $tv->{click_to_open}, $total->{click_to_open});

# time buckets: hours or days, as the page chose
my $bk = section('table', 'buckets') or die "no bucket table\n";
my @b = rows_of($bk, 'data-bucket');
my $per = (@b && $b[0][0] =~ /T/) ? 'hour' : 'day';
my %exp = map { $_->{name} => $_ } @{json_of($per)->{rows}};
same("buckets per $per", scalar @b, scalar keys %exp);
for my $r (@b) {
	same("$per $r->[0] $_", $r->[1]{$_}, want($exp{$r->[0]}, $_)) for sort keys %{$r->[1]};
}

# links: as multisets of (URL, numbers); the same URL may be in several messages
my $lt = section('table', 'links') or die "no links table\n";
my @keys = qw(clicks_human unique_clicks_human clicks_machine clicks);
my (@got, @exp);
my $prev;
while ($lt =~ /<td class="url">(.*?)<\/td>(.*?)<\/tr>/sg) {
	my ($u, $v) = (decode_entities($1), values_in($2));
	push @got, join("\x1f", $u, map { $v->{$_} // 'none' } @keys);
	$bad++, print "# links not ranked by people's clicks at $u\n"
	    if defined $prev && $v->{clicks_human} > $prev;
	$prev = $v->{clicks_human};
}
# the page lists the links someone clicked (50 at most) and counts the others
my @lrows = grep { $_->{clicks} } @{json_of('link')->{rows}};
my $unclicked = grep { !$_->{clicks} } @{json_of('link')->{rows}};
if ($unclicked || @lrows > 50) {
	$n++;
	if ($lt !~ /<td[^>]*id="more-links">(?:and )?([0-9]+) more links, ([0-9]+) of them without clicks</) {
		$bad++;
		print "# the links not listed are not counted\n";
	} elsif ($1 != $unclicked + (@lrows > 50 ? @lrows - 50 : 0) || $2 != $unclicked) {
		$bad++;
		print "# links not listed: report $1 ($2 without clicks), stats $unclicked without clicks\n";
	}
}
for my $row (@lrows) {
	push @exp, join("\x1f", $row->{name}, map { $row->{$_} // 'none' } @keys);
}
@exp = sort @exp;
if (@lrows > 50) {	# the page shows the first 50 of its ranking only
	my %g; $g{$_}++ for @got;
	@exp = grep { $g{$_} && $g{$_}-- } @exp;
}
$n++;
if (join("\n", sort @got) ne join("\n", @exp)) {
	$bad++;
	print "# links differ:\n";
	print "#   report: $_\n" for sort @got;
	print "#   stats:  $_\n" for @exp;
}

# campaigns and sending domains, when the page has them
for my $g (['campaigns', 'campaign'], ['domains', 'domain']) {
	my $s = section('section', $g->[0]) or next;
	my %e = map { $_->{name} => $_ } @{json_of($g->[1])->{rows}};
	my @r = rows_of($s, 'data-name');
	same("$g->[1] rows", scalar @r, scalar keys %e);
	for my $r (@r) {
		same("$g->[1] $r->[0] $_", $r->[1]{$_}, want($e{$r->[0]}, $_)) for sort keys %{$r->[1]};
	}
}
print "# $n values compared, $bad differ\n";
exit($bad ? 1 : 0);
