/** The licence the example projects ship under (the text points at the full one). */
export const APACHE_2_0 = `                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   See https://www.apache.org/licenses/LICENSE-2.0 for the full text.
`;
