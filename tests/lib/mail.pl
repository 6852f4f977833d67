#!/usr/bin/perl
# mail.pl - read mail for the tests, independently of mtrack's own code.
#   mail.pl html FILE       the decoded first text/html part (not an attachment)
#   mail.pl hrefs FILE      href values of <a>/<area> in it, entity-decoded, one a line
#   mail.pl structure FILE  the MIME tree: one line a part, indented, content type
#   mail.pl parts FILE      like structure, with an MD5 of each decoded leaf
use strict;
use warnings;
use MIME::QuotedPrint qw(decode_qp);
use MIME::Base64 qw(decode_base64);
use Digest::MD5 qw(md5_hex);

my ($cmd, $file) = @ARGV;
open(my $fh, '<:raw', $file) or die "$file: $!\n";
my $msg = do { local $/; <$fh> };
$msg =~ s/\r\n/\n/g;

sub split_part {
	my ($text) = @_;
	my ($head, $body) = split(/\n\n/, $text, 2);
	$body = '' unless defined $body;
	$head =~ s/\n[ \t]+/ /g;
	my %h;
	for my $l (split /\n/, $head) {
		my ($k, $v) = $l =~ /^([^:\s]+)\s*:\s*(.*)$/ or next;
		$h{lc $k} //= $v;
	}
	return (\%h, $body);
}

# walk: callback(depth, headers, body) for every part
sub walk {
	my ($text, $depth, $cb) = @_;
	my ($h, $body) = split_part($text);
	my $ct = $h->{'content-type'} // 'text/plain';
	$cb->($depth, $h, $body);
	return if $ct !~ m{^multipart/}i;
	my ($b) = $ct =~ /boundary\s*=\s*"([^"]+)"/i;
	($b) = $ct =~ /boundary\s*=\s*([^;\s]+)/i unless defined $b;
	return unless defined $b;
	my @chunks = split(/^--\Q$b\E(?:--)?[ \t]*\n?/m, $body, -1);
	shift @chunks;                       # the preamble
	pop @chunks if @chunks && $body =~ /^--\Q$b\E--/m;  # the epilogue
	for my $c (@chunks) {
		$c =~ s/\n\z//;
		walk($c, $depth + 1, $cb);
	}
}

sub decode_body {
	my ($h, $body) = @_;
	my $cte = lc($h->{'content-transfer-encoding'} // '7bit');
	return decode_qp($body) if $cte =~ /quoted-printable/;
	return decode_base64($body) if $cte =~ /base64/;
	return $body;
}

sub first_html {
	my $html;
	walk($msg, 0, sub {
		my ($d, $h, $body) = @_;
		return if defined $html;
		my $ct = $h->{'content-type'} // '';
		return unless $ct =~ m{^text/html}i;
		return if ($h->{'content-disposition'} // '') =~ /^attachment/i;
		$html = decode_body($h, $body);
	});
	return $html;
}

my %ent = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'");
sub unent {
	my ($s) = @_;
	$s =~ s/&#[xX]([0-9a-fA-F]+);?/chr(hex $1)/ge;
	$s =~ s/&#([0-9]+);?/chr($1)/ge;
	$s =~ s/&(amp|lt|gt|quot|apos);/$ent{$1}/g;
	$s =~ s/[\t\r\n]//g;
	$s =~ s/^\s+|\s+$//g;
	return $s;
}

if ($cmd eq 'html') {
	my $h = first_html();
	defined $h or exit 1;
	print $h;
} elsif ($cmd eq 'hrefs') {
	my $h = first_html();
	defined $h or exit 1;
	$h =~ s/<!--(?!\[if).*?-->//gs;     # ordinary comments hold no links
	$h =~ s{<(style|script)\b.*?</\1\s*>}{}gis;
	while ($h =~ /<(?:a|area|v:\w+)\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gis) {
		my $v = defined $2 ? $2 : defined $3 ? $3 : $4;
		print unent($v), "\n";
	}
} elsif ($cmd eq 'structure' || $cmd eq 'parts') {
	walk($msg, 0, sub {
		my ($d, $h, $body) = @_;
		my $ct = lc($h->{'content-type'} // 'text/plain');
		$ct =~ s/;.*//;
		my $line = ('  ' x $d) . $ct;
		$line .= ' ' . md5_hex(decode_body($h, $body))
		    if $cmd eq 'parts' && $ct !~ m{^multipart/};
		print "$line\n";
	});
} else {
	die "usage: mail.pl html|hrefs|structure|parts FILE\n";
}
