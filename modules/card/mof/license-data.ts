/**
 * The licence facts the Model Openness Tool evaluates with, in the order it imports them:
 * its own mof-licenses.json first (type-appropriate content types), then the SPDX list
 * (version d8abdb0, 2024-05-21); the first entry for an id wins.
 * test/card/license-data.test.ts checks this table against those upstream files.
 */

/** SPDX license list version the table was taken from. */
export const SPDX_LIST_VERSION = 'd8abdb0';

/** Every known id; after the colon: o = OSI approved, f = FSF libre, d = deprecated id. */
const PACKED = `
0BSD:o 3D-Slicer-1.0 AAL:o Abstyles AdaCore-doc Adobe-2006 Adobe-Display-PostScript Adobe-Glyph Adobe-Utopia
ADSL AFL-1.1:of AFL-1.2:of AFL-2.0:of AFL-2.1:of AFL-3.0:of Afmparse AGPL-1.0:fd AGPL-1.0-only
AGPL-1.0-or-later AGPL-3.0:ofd AGPL-3.0-only:of AGPL-3.0-or-later:of Aladdin AMD-newlib AMDPLPA AML
AML-glslang AMPAS ANTLR-PD ANTLR-PD-fallback any-OSI Apache-1.0:f Apache-1.1:of Apache-2.0:of APAFML APL-1.0:o
App-s2p APSL-1.0:o APSL-1.1:o APSL-1.2:o APSL-2.0:of Arphic-1999 Artistic-1.0:o Artistic-1.0-cl8:o
Artistic-1.0-Perl:o Artistic-2.0:of ASWF-Digital-Assets-1.0 ASWF-Digital-Assets-1.1 Baekmuk Bahyph Barr
bcrypt-Solar-Designer Beerware Bitstream-Charter Bitstream-Vera BitTorrent-1.0 BitTorrent-1.1:f blessing
BlueOak-1.0.0:o Boehm-GC Borceux Brian-Gladman-2-Clause Brian-Gladman-3-Clause BSD-1-Clause:o BSD-2-Clause:of
BSD-2-Clause-Darwin BSD-2-clause-first-lines BSD-2-Clause-FreeBSD:fd BSD-2-Clause-NetBSD:fd
BSD-2-Clause-Patent:o BSD-2-Clause-Views BSD-3-Clause:of BSD-3-Clause-acpica BSD-3-Clause-Attribution
BSD-3-Clause-Clear:f BSD-3-Clause-flex BSD-3-Clause-HP BSD-3-Clause-LBNL:o BSD-3-Clause-Modification
BSD-3-Clause-No-Military-License BSD-3-Clause-No-Nuclear-License BSD-3-Clause-No-Nuclear-License-2014
BSD-3-Clause-No-Nuclear-Warranty BSD-3-Clause-Open-MPI BSD-3-Clause-Sun BSD-4-Clause:f BSD-4-Clause-Shortened
BSD-4-Clause-UC BSD-4.3RENO BSD-4.3TAHOE BSD-Advertising-Acknowledgement BSD-Attribution-HPND-disclaimer
BSD-Inferno-Nettverk BSD-Protection BSD-Source-beginning-file BSD-Source-Code BSD-Systemics
BSD-Systemics-W3Works BSL-1.0:of BUSL-1.1 bzip2-1.0.5:d bzip2-1.0.6 C-UDA-1.0 CAL-1.0:o
CAL-1.0-Combined-Work-Exception:o Caldera Caldera-no-preamble Catharon CATOSL-1.1:o CC-BY-1.0 CC-BY-2.0
CC-BY-2.5 CC-BY-2.5-AU CC-BY-3.0 CC-BY-3.0-AT CC-BY-3.0-AU CC-BY-3.0-DE CC-BY-3.0-IGO CC-BY-3.0-NL
CC-BY-3.0-US CC-BY-4.0:f CC-BY-NC-1.0 CC-BY-NC-2.0 CC-BY-NC-2.5 CC-BY-NC-3.0 CC-BY-NC-3.0-DE CC-BY-NC-4.0
CC-BY-NC-ND-1.0 CC-BY-NC-ND-2.0 CC-BY-NC-ND-2.5 CC-BY-NC-ND-3.0 CC-BY-NC-ND-3.0-DE CC-BY-NC-ND-3.0-IGO
CC-BY-NC-ND-4.0 CC-BY-NC-SA-1.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-2.0-DE CC-BY-NC-SA-2.0-FR CC-BY-NC-SA-2.0-UK
CC-BY-NC-SA-2.5 CC-BY-NC-SA-3.0 CC-BY-NC-SA-3.0-DE CC-BY-NC-SA-3.0-IGO CC-BY-NC-SA-4.0 CC-BY-ND-1.0
CC-BY-ND-2.0 CC-BY-ND-2.5 CC-BY-ND-3.0 CC-BY-ND-3.0-DE CC-BY-ND-4.0 CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.0-UK
CC-BY-SA-2.1-JP CC-BY-SA-2.5 CC-BY-SA-3.0 CC-BY-SA-3.0-AT CC-BY-SA-3.0-DE CC-BY-SA-3.0-IGO CC-BY-SA-4.0:f
CC-PDDC CC0-1.0:f CDDL-1.0:of CDDL-1.1 CDL-1.0 CDLA-Permissive-1.0 CDLA-Permissive-2.0 CDLA-Sharing-1.0
CECILL-1.0 CECILL-1.1 CECILL-2.0:f CECILL-2.1:o CECILL-B:f CECILL-C:f CERN-OHL-1.1 CERN-OHL-1.2
CERN-OHL-P-2.0:o CERN-OHL-S-2.0:o CERN-OHL-W-2.0:o CFITSIO check-cvs checkmk ClArtistic:f Clips CMU-Mach
CMU-Mach-nodoc CNRI-Jython CNRI-Python:o CNRI-Python-GPL-Compatible COIL-1.0 Community-Spec-1.0 Condor-1.1:f
copyleft-next-0.3.0 copyleft-next-0.3.1 Cornell-Lossless-JPEG CPAL-1.0:of CPL-1.0:of CPOL-1.02 Cronyx
Crossword CrystalStacker CUA-OPL-1.0:o Cube curl cve-tou D-FSL-1.0 DEC-3-Clause diffmark DL-DE-BY-2.0
DL-DE-ZERO-2.0 DOC Dotseqn DRL-1.0 DRL-1.1 DSDP dtoa dvipdfm ECL-1.0:o ECL-2.0:of eCos-2.0:fd EFL-1.0:o
EFL-2.0:of eGenix Elastic-2.0 Entessa:o EPICS EPL-1.0:of EPL-2.0:of ErlPL-1.1 etalab-2.0 EUDatagrid:of
EUPL-1.0 EUPL-1.1:of EUPL-1.2:of Eurosym Fair:o FBM FDK-AAC Ferguson-Twofish Frameworx-1.0:o FreeBSD-DOC
FreeImage FSFAP:f FSFAP-no-warranty-disclaimer FSFUL FSFULLR FSFULLRWD FTL:f Furuseth fwlw GCR-docs GD
GFDL-1.1:fd GFDL-1.1-invariants-only GFDL-1.1-invariants-or-later GFDL-1.1-no-invariants-only
GFDL-1.1-no-invariants-or-later GFDL-1.1-only:f GFDL-1.1-or-later:f GFDL-1.2:fd GFDL-1.2-invariants-only
GFDL-1.2-invariants-or-later GFDL-1.2-no-invariants-only GFDL-1.2-no-invariants-or-later GFDL-1.2-only:f
GFDL-1.2-or-later:f GFDL-1.3:fd GFDL-1.3-invariants-only GFDL-1.3-invariants-or-later
GFDL-1.3-no-invariants-only GFDL-1.3-no-invariants-or-later GFDL-1.3-only:f GFDL-1.3-or-later:f Giftware GL2PS
Glide Glulxe GLWTPL gnuplot:f GPL-1.0:d GPL-1.0-only GPL-1.0-or-later GPL-1.0+:d GPL-2.0:ofd GPL-2.0-only:of
GPL-2.0-or-later:of GPL-2.0-with-autoconf-exception:d GPL-2.0-with-bison-exception:d
GPL-2.0-with-classpath-exception:d GPL-2.0-with-font-exception:d GPL-2.0-with-GCC-exception:d GPL-2.0+:ofd
GPL-3.0:ofd GPL-3.0-only:of GPL-3.0-or-later:of GPL-3.0-with-autoconf-exception:d
GPL-3.0-with-GCC-exception:od GPL-3.0+:ofd Graphics-Gems gSOAP-1.3b gtkbook Gutmann HaskellReport hdparm
Hippocratic-2.1 HP-1986 HP-1989 HPND:of HPND-DEC HPND-doc HPND-doc-sell HPND-export-US
HPND-export-US-acknowledgement HPND-export-US-modify HPND-export2-US HPND-Fenneberg-Livingston HPND-INRIA-IMAG
HPND-Intel HPND-Kevlin-Henney HPND-Markus-Kuhn HPND-merchantability-variant HPND-MIT-disclaimer HPND-Pbmplus
HPND-sell-MIT-disclaimer-xserver HPND-sell-regexpr HPND-sell-variant HPND-sell-variant-MIT-disclaimer
HPND-sell-variant-MIT-disclaimer-rev HPND-UC HPND-UC-export-US HTMLTIDY IBM-pibs ICU:o
IEC-Code-Components-EULA IJG:f IJG-short ImageMagick iMatix:f Imlib2:f Info-ZIP Inner-Net-2.0 Intel:of
Intel-ACPI Interbase-1.0 IPA:of IPL-1.0:of ISC:of ISC-Veillard Jam:o JasPer-2.0 JPL-image JPNIC JSON Kastrup
Kazlib Knuth-CTAN LAL-1.2 LAL-1.3 Latex2e Latex2e-translated-notice Leptonica LGPL-2.0:od LGPL-2.0-only:o
LGPL-2.0-or-later:o LGPL-2.0+:od LGPL-2.1:ofd LGPL-2.1-only:of LGPL-2.1-or-later:of LGPL-2.1+:ofd LGPL-3.0:ofd
LGPL-3.0-only:of LGPL-3.0-or-later:of LGPL-3.0+:ofd LGPLLR Libpng libpng-2.0 libselinux-1.0 libtiff
libutil-David-Nugent LiLiQ-P-1.1:o LiLiQ-R-1.1:o LiLiQ-Rplus-1.1:o Linux-man-pages-1-para
Linux-man-pages-copyleft Linux-man-pages-copyleft-2-para Linux-man-pages-copyleft-var Linux-OpenIB LOOP
LPD-document LPL-1.0:o LPL-1.02:of LPPL-1.0 LPPL-1.1 LPPL-1.2:f LPPL-1.3a:f LPPL-1.3c:o lsof
Lucida-Bitmap-Fonts LZMA-SDK-9.11-to-9.20 LZMA-SDK-9.22 Mackerras-3-Clause Mackerras-3-Clause-acknowledgment
magaz mailprio MakeIndex Martin-Birgmeier McPhee-slideshow metamail Minpack MirOS:o MIT:of MIT-0:o
MIT-advertising MIT-CMU MIT-enna MIT-feh MIT-Festival MIT-Khronos-old MIT-Modern-Variant:o MIT-open-group
MIT-testregex MIT-Wu MITNFA MMIXware Motosoto:o MPEG-SSG mpi-permissive mpich2 MPL-1.0:o MPL-1.1:of MPL-2.0:of
MPL-2.0-no-copyleft-exception:o mplus MS-LPL MS-PL:of MS-RL:of MTLL MulanPSL-1.0 MulanPSL-2.0:o Multics:o Mup
NAIST-2003 NASA-1.3:o Naumen:o NBPL-1.0 NCBI-PD NCGL-UK-2.0 NCL NCSA:of Net-SNMP NetCDF Newsletr NGPL:o
NICTA-1.0 NIST-PD NIST-PD-fallback NIST-Software NLOD-1.0 NLOD-2.0 NLPL Nokia:of NOSL:f Noweb NPL-1.0:f
NPL-1.1:f NPOSL-3.0:o NRL NTP:o NTP-0 Nunit:fd O-UDA-1.0 OAR OCCT-PL OCLC-2.0:o ODbL-1.0:f ODC-By-1.0 OFFIS
OFL-1.0:f OFL-1.0-no-RFN OFL-1.0-RFN OFL-1.1:of OFL-1.1-no-RFN:o OFL-1.1-RFN:o OGC-1.0 OGDL-Taiwan-1.0
OGL-Canada-2.0 OGL-UK-1.0 OGL-UK-2.0 OGL-UK-3.0 OGTSL:o OLDAP-1.1 OLDAP-1.2 OLDAP-1.3 OLDAP-1.4 OLDAP-2.0
OLDAP-2.0.1 OLDAP-2.1 OLDAP-2.2 OLDAP-2.2.1 OLDAP-2.2.2 OLDAP-2.3:f OLDAP-2.4 OLDAP-2.5 OLDAP-2.6 OLDAP-2.7:f
OLDAP-2.8:o OLFL-1.3:o OML OpenMDW-1.0 OpenPBS-2.3 OpenSSL:f OpenSSL-standalone OpenVision OPL-1.0 OPL-UK-3.0
OPUBL-1.0 OSET-PL-2.1:o OSL-1.0:of OSL-1.1:f OSL-2.0:of OSL-2.1:of OSL-3.0:of PADL Parity-6.0.0 Parity-7.0.0
PDDL-1.0 PHP-3.0:o PHP-3.01:of Pixar pkgconf Plexus pnmstitch PolyForm-Noncommercial-1.0.0
PolyForm-Small-Business-1.0.0 PostgreSQL:o PPL PSF-2.0 psfrag psutils Python-2.0:of Python-2.0.1 python-ldap
Qhull QPL-1.0:of QPL-1.0-INRIA-2004 radvd Rdisc RHeCos-1.1 RPL-1.1:o RPL-1.5:o RPSL-1.0:of RSA-MD RSCPL:o
Ruby:f SAX-PD SAX-PD-2.0 Saxpath SCEA SchemeReport Sendmail Sendmail-8.23 SGI-B-1.0 SGI-B-1.1 SGI-B-2.0:f
SGI-OpenGL SGP4 SHL-0.5 SHL-0.51 SimPL-2.0:o SISSL:of SISSL-1.2 SL Sleepycat:of SMLNJ:f SMPPL SNIA snprintf
softSurfer Soundex Spencer-86 Spencer-94 Spencer-99 SPL-1.0:of ssh-keyscan SSH-OpenSSH SSH-short
SSLeay-standalone SSPL-1.0 StandardML-NJ:fd SugarCRM-1.1.3 Sun-PPP Sun-PPP-2000 SunPro SWL swrule Symlinks
TAPR-OHL-1.0 TCL TCP-wrappers TermReadKey TGPPL-1.0 threeparttable TMate TORQUE-1.1 TOSL TPDL TPL-1.0 TTWL
TTYP0 TU-Berlin-1.0 TU-Berlin-2.0 UCAR UCL-1.0:o ulem UMich-Merit Unicode-3.0:o Unicode-DFS-2015
Unicode-DFS-2016:o Unicode-TOU UnixCrypt Unlicense:of UPL-1.0:of URT-RLE Vim:f VOSTROM VSL-1.0:o W3C:of
W3C-19980720 W3C-20150513 w3m Watcom-1.0:o Widget-Workshop Wsuipa WTFPL:f wxWindows:od X11:f
X11-distribute-modifications-variant Xdebug-1.03 Xerox Xfig XFree86-1.1:f xinetd:f xkeyboard-config-Zinoviev
xlock Xnet:o xpp XSkat xzoom YPL-1.0 YPL-1.1:f Zed Zeeff Zend-2.0:f Zimbra-1.3:f Zimbra-1.4 Zlib:of
zlib-acknowledgement ZPL-1.1 ZPL-2.0:of ZPL-2.1:of
`;

export interface LicenseFacts {
  osiApproved: boolean;
  fsfLibre: boolean;
  deprecated: boolean;
}

export const LICENSES: ReadonlyMap<string, LicenseFacts> = new Map(
  PACKED.split(/\s+/).filter(Boolean).map((entry) => {
    const [id, flags = ''] = entry.split(':') as [string, string?];
    return [id, { osiApproved: flags.includes('o'), fsfLibre: flags.includes('f'), deprecated: flags.includes('d') }];
  }),
);

/** The MOT's type-appropriate licences: which component content types each one suits. */
export const TYPE_APPROPRIATE: Readonly<Record<string, readonly ContentType[]>> = {
  '0BSD': ['code'],
  'AFL-1.1': ['code'],
  'AFL-1.2': ['code'],
  'AFL-2.0': ['code'],
  'AFL-2.1': ['code'],
  'AFL-3.0': ['code'],
  'Apache-1.0': ['code'],
  'Apache-1.1': ['code'],
  'Apache-2.0': ['code', 'document'],
  'C-UDA-1.0': ['data'],
  'CC-BY-4.0': ['document'],
  'CC-BY-SA-3.0': ['document'],
  'CC-BY-SA-4.0': ['document'],
  'CC-PDDC': ['data'],
  'CC0-1.0': ['data'],
  'CDLA-Permissive-1.0': ['data'],
  'CDLA-Permissive-2.0': ['data'],
  'ECL-1.0': ['code'],
  'ECL-2.0': ['code'],
  'FreeBSD-DOC': ['document'],
  'ISC': ['code'],
  'MIT': ['code'],
  'MIT-0': ['code'],
  'MulanPSL-1.0': ['code'],
  'MulanPSL-2.0': ['code'],
  'NCSA': ['code'],
  'OpenMDW-1.0': ['document', 'data', 'code'],
  'PDDL-1.0': ['data'],
  'UPL-1.0': ['code'],
};

export type ContentType = 'code' | 'data' | 'document';

/** Licences the MOT treats as open for data though neither OSI nor FSF lists them (LicenseHandler::OPEN_DATA_LICENSES). */
export const OPEN_DATA_LICENSES: readonly string[] = [
  'CC0-1.0', 'CC-BY-1.0', 'CC-BY-2.0', 'CC-BY-2.5', 'CC-BY-2.5-AU', 'CC-BY-3.0', 'CC-BY-3.0-AT', 'CC-BY-3.0-AU',
  'CC-BY-3.0-DE', 'CC-BY-3.0-IGO', 'CC-BY-3.0-NL', 'CC-BY-3.0-US', 'CC-BY-4.0', 'CC-BY-SA-1.0', 'CC-BY-SA-2.0',
  'CC-BY-SA-2.0-UK', 'CC-BY-SA-2.1-JP', 'CC-BY-SA-2.5', 'CC-BY-SA-3.0', 'CC-BY-SA-3.0-AT', 'CC-BY-SA-4.0',
  'CDLA-Permissive-1.0', 'CDLA-Permissive-2.0', 'CDLA-Sharing-1.0', 'ODC-PDDL-1.0', 'ODC-By-1.0', 'ODbL-1.0',
  'GFDL-1.3', 'OGL-Canada-2.0', 'OGL-UK-2.0', 'OGL-UK-3.0',
];
